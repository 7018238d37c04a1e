#!/usr/bin/env python3
"""benchmarks/compare.py: runs coio's workloads side by side with its peers and prints one table.

Each peer is a program with the same interface (`--list`, `--only w`, `--scale f`) that prints
one line per workload, `name: <value> <unit> [key=value ...] rss_mb=<x> n=<count>`, and checks
its own result. Every workload of every peer runs N times, each in a fresh process, peers
interleaved so that the machine's drift hits them alike. The table gives the median per peer,
the ratio of each peer to coio (above 1: coio is ahead) and the peak-memory deltas. It is
written to benchmarks/results/latest.md with a chart of the ratios (gnuplot, SVG).

    python3 benchmarks/compare.py --build-dir DIR [--runs N] [--only w1,w2]
                                  [--peers coio,asio,tokio,asyncio,uvloop] [--quick]

Normally started by `bash benchmarks/run.sh`, which installs and builds everything first.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"  # Debian's, where python3-uvloop installs
ALL_PEERS = ["coio", "asio", "tokio", "uvloop", "asyncio"]
PEER_TITLES = {"coio": "coio", "asio": "Boost.Asio", "tokio": "tokio", "uvloop": "uvloop", "asyncio": "asyncio"}

# The order of the table (BENCHMARKS.md first, then coio's own extras) and, for each workload,
# whether a bigger value is better (throughput) or worse (time).
WORKLOAD_ORDER = [
    "await_direct", "spawn_await", "gather_100k", "yield_switch", "timers_100k", "queue_pingpong_1",
    "queue_pingpong_1024", "semaphore_100k", "tcp_echo_100conn", "tcp_latency_1conn",
    "wait_for_overhead", "lock_contention", "to_thread_roundtrip", "file_lines",
]
HIGHER_IS_BETTER_UNITS = {"rt_per_s", "MB_per_s", "MB/s", "per_s"}
ECHO_WORKLOAD = "tcp_echo_100conn"
ECHO_WARMUP_ROUND_TRIPS = 1000
LINE = re.compile(r"^(\w+): (-?[\d.]+(?:e[+-]?\d+)?) (\S+)(.*)$")
EXIT_SKIPPED = 3


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def peer_commands(build_dir, wanted):
    """The command of each peer that can run here, and why the others are skipped."""
    commands, skipped = {}, {}
    for peer in wanted:
        if peer == "coio":
            exe = os.path.join(build_dir, "benchmarks", "coio_bench")
            if os.access(exe, os.X_OK):
                commands[peer] = [exe]
            else:
                skipped[peer] = f"{exe} is not built"
        elif peer == "asio":
            exe = os.path.join(build_dir, "benchmarks", "asio_bench")
            if os.access(exe, os.X_OK):
                commands[peer] = [exe]
            else:
                skipped[peer] = "asio_bench is not built (Debian's libboost1.81-dev missing?)"
        elif peer == "tokio":
            build = subprocess.run(["sh", os.path.join(HERE, "peers", "tokio", "build.sh"),
                                    os.path.join(build_dir, "tokio-target")],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            if build.returncode == 0 and build.stdout.strip():
                commands[peer] = [build.stdout.strip().splitlines()[-1]]
            else:
                reason = build.stderr.strip().splitlines()[-1:] or [f"build.sh exited {build.returncode}"]
                skipped[peer] = reason[0]
        elif peer in ("asyncio", "uvloop"):
            if not os.access(PYTHON, os.X_OK):
                skipped[peer] = f"{PYTHON} is missing"
                continue
            cmd = [PYTHON, os.path.join(HERE, "peers", "asyncio_bench.py"), "--loop", peer]
            probe = subprocess.run(cmd + ["--list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            if probe.returncode == 0:
                commands[peer] = cmd
            else:
                skipped[peer] = (probe.stderr.strip().splitlines() or [f"exit {probe.returncode}"])[-1]
        else:
            skipped[peer] = "unknown peer"
    return commands, skipped


def list_workloads(cmd):
    out = subprocess.run(cmd + ["--list"], stdout=subprocess.PIPE, text=True, check=True).stdout
    return [w.strip() for w in out.splitlines() if w.strip()]


def parse_line(text):
    m = LINE.match(text.strip())
    if not m:
        return None
    extras = dict(re.findall(r"(\w+)=(-?[\d.]+)", m.group(4)))
    return {"name": m.group(1), "value": float(m.group(2)), "unit": m.group(3),
            "extras": {k: float(v) for k, v in extras.items()}}


def run_one(cmd, workload, scale, timeout):
    args = cmd + ["--only", workload]
    if scale != 1.0:
        args += ["--scale", f"{scale:g}"]
    try:
        proc = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout} s"
    if proc.returncode != 0:
        return None, (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
    for line in proc.stdout.splitlines():
        parsed = parse_line(line)
        if parsed and parsed["name"] == workload:
            return parsed, None
    return None, "no result line"


def count_syscalls(cmd, scale):
    """System calls per echo round trip (both ends: client and server share the process)."""
    if not shutil.which("strace"):
        return None, "strace is not installed"
    with tempfile.NamedTemporaryFile(mode="r", suffix=".strace") as out:
        args = ["strace", "-f", "-c", "-o", out.name] + cmd + ["--only", ECHO_WORKLOAD]
        if scale != 1.0:
            args += ["--scale", f"{scale:g}"]
        proc = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=1800)
        if proc.returncode != 0:
            return None, f"exit {proc.returncode}"
        result = next((parse_line(l) for l in proc.stdout.splitlines() if l.startswith(ECHO_WORKLOAD)), None)
        total = None
        for line in out.read().splitlines():
            fields = line.split()
            if fields and fields[-1] == "total":
                total = int(fields[3]) if len(fields) >= 5 else int(fields[2])
        if not result or total is None:
            return None, "could not read strace's summary"
        round_trips = result["extras"].get("n", 0) + ECHO_WARMUP_ROUND_TRIPS
        return total / round_trips, None


def versions(commands):
    info = {}
    gxx = subprocess.run(["g++", "--version"], stdout=subprocess.PIPE, text=True).stdout.splitlines()
    info["compiler"] = (gxx[0] if gxx else "g++ ?") + ", -O2 -DNDEBUG"
    try:
        text = open("/usr/include/boost/version.hpp").read()
        info["asio"] = "Boost " + re.search(r'BOOST_LIB_VERSION "([\d_]+)"', text).group(1).replace("_", ".")
    except (OSError, AttributeError):
        pass
    registry = "/usr/share/cargo/registry"
    if os.path.isdir(registry):
        tokios = sorted(d for d in os.listdir(registry) if re.match(r"tokio-\d", d))
        if tokios:
            rustc = subprocess.run(["rustc", "--version"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                   text=True).stdout.strip() if shutil.which("rustc") else "rustc ?"
            info["tokio"] = f"{tokios[-1]} ({rustc}, current_thread runtime)"
    if os.access(PYTHON, os.X_OK):
        py = subprocess.run([PYTHON, "-c", "import sys; print(sys.version.split()[0])"], stdout=subprocess.PIPE,
                            text=True).stdout.strip()
        info["asyncio"] = f"CPython {py}"
        uv = subprocess.run([PYTHON, "-c", "import uvloop; print(uvloop.__version__)"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True).stdout.strip()
        if uv:
            info["uvloop"] = f"uvloop {uv} on CPython {py}"
    return info


def machine():
    model = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model or platform.processor()}, Linux {platform.release()}"


def fmt_value(v):
    if v is None:
        return ""
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def ratio(workload_unit, coio_value, peer_value):
    """How far coio is ahead of the peer (above 1) or behind it (below 1)."""
    if coio_value is None or peer_value is None:
        return None
    floor = 0.1  # timers_100k reports ms over the 100 ms ideal, which can be ~0
    coio_value, peer_value = max(coio_value, floor), max(peer_value, floor)
    if workload_unit in HIGHER_IS_BETTER_UNITS:
        return coio_value / peer_value
    return peer_value / coio_value


def build_table(results, peers, workloads, syscalls):
    """Markdown rows: medians, spread for coio, ratios, memory."""
    header = ["workload", "unit"] + [PEER_TITLES[p] for p in peers] + \
             [f"{PEER_TITLES[p]} / coio" for p in peers if p != "coio"] + ["peak RSS delta MB (" + ", ".join(peers) + ")"]
    rows = []
    for w in workloads:
        per_peer = {p: results.get(p, {}).get(w) for p in peers}
        if not any(per_peer.values()):
            continue
        unit = next(r["unit"] for r in per_peer.values() if r)
        medians = {p: (statistics.median(r["values"]) if r and r["values"] else None) for p, r in per_peer.items()}
        cells = [w, unit]
        for p in peers:
            r = per_peer[p]
            if r and r["values"]:
                cell = fmt_value(medians[p])
                if p == "coio" and len(r["values"]) > 1:
                    cell += f" ({fmt_value(min(r['values']))}-{fmt_value(max(r['values']))})"
                cells.append(cell)
            else:
                cells.append(r["error"] if r and r.get("error") else "")
        for p in peers:
            if p == "coio":
                continue
            x = ratio(unit, medians.get("coio"), medians.get(p))
            cells.append(f"{x:.2f}x" if x is not None else "")
        rss = []
        for p in peers:
            r = per_peer[p]
            vals = [v for v in (r or {}).get("rss", [])]
            rss.append(fmt_value(statistics.median(vals)) if vals else "-")
        cells.append(" / ".join(rss))
        rows.append(cells)
    if syscalls:
        cells = ["syscalls_per_echo", "calls/rt"]
        for p in peers:
            v = syscalls.get(p)
            cells.append(f"{v:.2f}" if isinstance(v, float) else (v or ""))
        for p in peers:
            if p == "coio":
                continue
            a, b = syscalls.get("coio"), syscalls.get(p)
            cells.append(f"{b / a:.2f}x" if isinstance(a, float) and isinstance(b, float) else "")
        cells.append("")
        rows.append(cells)
    return header, rows


def markdown(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * 2 + ["--:"] * (len(header) - 2)) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def plain(header, rows):
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    fmt = "  ".join(f"{{:<{w}}}" if i < 2 else f"{{:>{w}}}" for i, w in enumerate(widths))
    return "\n".join([fmt.format(*header)] + [fmt.format(*r) for r in rows])


def chart(path, results, peers, workloads):
    """Bars of each peer's ratio to coio per workload, log scale (gnuplot, SVG)."""
    if not shutil.which("gnuplot"):
        return "gnuplot is not installed"
    others = [p for p in peers if p != "coio"]
    data_rows = []
    for w in workloads:
        coio = results.get("coio", {}).get(w)
        if not coio or not coio["values"]:
            continue
        cm = statistics.median(coio["values"])
        vals = []
        for p in others:
            r = results.get(p, {}).get(w)
            x = ratio(coio["unit"], cm, statistics.median(r["values"])) if r and r["values"] else None
            vals.append(f"{x:.4f}" if x else "NaN")
        if any(v != "NaN" for v in vals):
            data_rows.append(w + " " + " ".join(vals))
    if not data_rows or not others:
        return "nothing to plot"
    with tempfile.NamedTemporaryFile("w", suffix=".dat", delete=False) as dat:
        dat.write("workload " + " ".join(others) + "\n" + "\n".join(data_rows) + "\n")
    script = f"""
set terminal svg size 1100,520 dynamic font "sans,11" background rgb "white"
set output "{path}"
set title "How many times faster coio is than each peer (above 1: coio ahead; log scale)"
set logscale y
set yrange [0.1:*]
set grid ytics
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set xtics rotate by -30 noenhanced
set key top left noenhanced
set arrow from graph 0, first 1 to graph 1, first 1 nohead lw 2 dt 2 lc rgb "black"
plot for [i=2:{len(others) + 1}] "{dat.name}" using i:xtic(1) title columnheader(i)
"""
    proc = subprocess.run(["gnuplot"], input=script, text=True, stderr=subprocess.PIPE)
    os.unlink(dat.name)
    return None if proc.returncode == 0 else proc.stderr.strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build-dir", default=os.path.join(HERE, "..", "build", "release"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", default="")
    ap.add_argument("--peers", default=",".join(ALL_PEERS))
    ap.add_argument("--quick", action="store_true", help="1 run at a tenth of the counts (figures indicative)")
    ap.add_argument("--results-dir", default=os.path.join(HERE, "results"))
    ap.add_argument("--no-syscalls", action="store_true")
    args = ap.parse_args()

    runs = 1 if args.quick else args.runs
    scale = 0.1 if args.quick else 1.0
    wanted = [p.strip() for p in args.peers.split(",") if p.strip()]
    if "coio" not in wanted:
        wanted.insert(0, "coio")  # the ratios are to coio
    peers = [p for p in ALL_PEERS if p in wanted]
    commands, skipped = peer_commands(os.path.abspath(args.build_dir), peers)
    for p, why in skipped.items():
        log(f"skipping {p}: {why}")
    peers = [p for p in peers if p in commands]
    if "coio" not in commands:
        sys.exit("coio_bench is not built: run bash benchmarks/run.sh")

    available = {p: set(list_workloads(commands[p])) for p in peers}
    only = [w for w in args.only.split(",") if w]
    workloads = [w for w in WORKLOAD_ORDER if w in available["coio"]] + \
                sorted(w for w in available["coio"] if w not in WORKLOAD_ORDER)
    if only:
        workloads = [w for w in workloads if w in only]

    results = {p: {} for p in peers}
    failures = []
    for run in range(1, runs + 1):
        for w in workloads:
            for p in peers:
                if w not in available[p]:
                    continue
                slot = results[p].setdefault(w, {"values": [], "rss": [], "unit": "", "error": None})
                log(f"[run {run}/{runs}] {p:8} {w}")
                parsed, error = run_one(commands[p], w, scale, timeout=900)
                if parsed is None:
                    slot["error"] = "failed"
                    failures.append(f"{p} {w}: {error}")
                    log(f"  FAILED: {error}")
                    continue
                slot["values"].append(parsed["value"])
                slot["unit"] = parsed["unit"]
                if "rss_mb" in parsed["extras"]:
                    slot["rss"].append(parsed["extras"]["rss_mb"])

    syscalls = {}
    if ECHO_WORKLOAD in workloads and not args.no_syscalls:
        for p in peers:
            if ECHO_WORKLOAD in available[p]:
                log(f"[strace] {p:8} {ECHO_WORKLOAD}")
                value, error = count_syscalls(commands[p], scale)
                syscalls[p] = value if value is not None else f"({error})"

    header, rows = build_table(results, peers, workloads, syscalls)
    info = versions(commands)
    when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    title = (f"coio benchmark suite, {when}: {machine()}. Medians of {runs} run(s), each workload in a fresh "
             f"process{', at a tenth of the counts (--quick)' if args.quick else ''}.")
    print()
    print(title)
    print("; ".join(f"{k}: {v}" for k, v in info.items()))
    print()
    print(plain(header, rows))
    for p, why in skipped.items():
        print(f"skipped {p}: {why}")
    for f in failures:
        print(f"FAILED {f}")

    os.makedirs(args.results_dir, exist_ok=True)
    chart_error = chart(os.path.join(args.results_dir, "ratios.svg"), results, peers, workloads)
    with open(os.path.join(args.results_dir, "latest.md"), "w") as md:
        md.write(f"{title}\n\n")
        md.write("".join(f"- {k}: {v}\n" for k, v in info.items()))
        md.write(f"- command: `bash benchmarks/run.sh{' --quick' if args.quick else ''} --runs {runs}`\n\n")
        md.write("Ratios are peer / coio for times and coio / peer for throughput: above 1, coio is ahead. "
                 "coio's cell shows its median (min-max). syscalls_per_echo counts both ends of the echo "
                 "(`strace -f -c`, one run).\n\n")
        md.write(markdown(header, rows) + "\n")
        for p, why in skipped.items():
            md.write(f"\nSkipped {p}: {why}\n")
        for f in failures:
            md.write(f"\nFAILED {f}\n")
        if not chart_error:
            md.write("\n![ratios](ratios.svg)\n")
    with open(os.path.join(args.results_dir, "latest.json"), "w") as js:
        json.dump({"title": title, "versions": info, "results": results, "syscalls_per_echo": syscalls,
                   "skipped": skipped, "failures": failures}, js, indent=1)
    if chart_error:
        print(f"no chart: {chart_error}")
    print(f"\nwritten: {os.path.relpath(os.path.join(args.results_dir, 'latest.md'))}"
          f"{'' if chart_error else ' and ratios.svg'}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
