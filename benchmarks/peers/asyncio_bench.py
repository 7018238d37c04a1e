#!/usr/bin/python3
"""benchmarks/peers/asyncio_bench.py: the CPython asyncio / uvloop peer of coio_bench.

Runs the workloads of shared BENCHMARKS.md the way asyncio's own documentation writes them and
prints one line per workload, `name: <value> <unit> [key=value ...] rss_mb=<x> n=<count>`.
Exits 1 (message on stderr) when a workload's own check fails, 3 when `--loop uvloop` is asked
for and uvloop is not importable (the driver reports that peer as skipped).

    /usr/bin/python3 asyncio_bench.py [--loop asyncio|uvloop] [--only a,b] [--smoke] [--scale f] [--list]

Every workload runs in a fresh `asyncio.Runner()` (uvloop: `loop_factory=uvloop.new_event_loop`)
and is timed with time.perf_counter_ns() inside its top-level coroutine, so loop creation and
teardown are excluded. rss_mb is the VmHWM delta over the whole Runner, loop creation included.
"""

import argparse
import asyncio
import socket
import sys
from time import perf_counter_ns

MESSAGE_SIZE = 64


class CheckFailed(Exception):
    """A workload computed a wrong result."""


def check(name, got, expected):
    if got != expected:
        raise CheckFailed(f"{name}: wrong result {got!r} (expected {expected!r})")


def peak_rss_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def timer_delays_us(n):
    """The spec's 31-bit LCG (seed 12345): delay_us = x mod 100001, 0..100 ms."""
    x = 12345
    delays = []
    for _ in range(n):
        x = (x * 1103515245 + 12345) % (1 << 31)
        delays.append(x % 100001)
    return delays


async def trivial(i):
    return i


# --- in-process workloads -------------------------------------------------------------------
# Each returns (value, unit, extra "key=value" strings, n) after checking its own result.


async def await_direct(n):
    start = perf_counter_ns()
    total = 0
    for i in range(n):
        total += await trivial(i)
    ns = (perf_counter_ns() - start) / n
    check("await_direct", total, n * (n - 1) // 2)
    return ns, "ns/op", [], n


async def spawn_await(n):
    start = perf_counter_ns()
    total = 0
    for i in range(n):
        total += await asyncio.create_task(trivial(i))
    ns = (perf_counter_ns() - start) / n
    check("spawn_await", total, n * (n - 1) // 2)
    return ns, "ns/op", [], n


async def yield_switch(n):
    count = 0

    async def yielder():
        nonlocal count
        for _ in range(n):
            await asyncio.sleep(0)
            count += 1

    start = perf_counter_ns()
    a = asyncio.create_task(yielder())
    b = asyncio.create_task(yielder())
    await a
    await b
    ns = (perf_counter_ns() - start) / (2 * n)
    check("yield_switch", count, 2 * n)
    return ns, "ns/op", [], 2 * n


async def gather_100k(n):
    start = perf_counter_ns()
    tasks = [asyncio.create_task(trivial(i)) for i in range(n)]
    results = await asyncio.gather(*tasks)
    ns = (perf_counter_ns() - start) / n
    check("gather_100k", sum(results), n * (n - 1) // 2)
    return ns, "ns/op", [], n


# How early a timer may fire, measured on the precise monotonic clock, before it counts as
# having finished before its delay. asyncio schedules on time.monotonic() and never fires early.
# uvloop hands libuv a whole number of milliseconds (the delay rounded to the nearest ms) and
# libuv measures it from its loop clock, which is kept in whole milliseconds (truncated): a
# uvloop timer can fire up to ~1.5 ms before its delay has elapsed.
TIMER_EARLY_TOLERANCE_NS = {"asyncio": 0, "uvloop": 2_000_000}


async def timers_100k(n, loop_name):
    tolerance_ns = TIMER_EARLY_TOLERANCE_NS[loop_name]
    delays = timer_delays_us(n)
    early = []

    async def sleeper(delay_us):
        t0 = perf_counter_ns()
        await asyncio.sleep(delay_us / 1_000_000)
        slept_ns = perf_counter_ns() - t0
        if slept_ns + tolerance_ns < delay_us * 1000:
            early.append((delay_us, slept_ns))
        return 1

    start = perf_counter_ns()
    tasks = [asyncio.create_task(sleeper(d)) for d in delays]
    results = await asyncio.gather(*tasks)
    elapsed_ms = (perf_counter_ns() - start) / 1e6
    check("timers_100k completed", sum(results), n)
    if early:
        delay_us, slept_ns = early[0]
        raise CheckFailed(
            f"timers_100k: {len(early)} timers finished before their delay "
            f"(e.g. delay {delay_us} us, slept {slept_ns / 1000:.1f} us)"
        )
    timers_per_s = n / (elapsed_ms / 1000)
    return elapsed_ms - 100.0, "ms_over_100", [f"timers_per_s={timers_per_s:.0f}"], n


async def queue_pingpong(n, maxsize, name):
    queue = asyncio.Queue(maxsize)

    async def producer():
        for i in range(n):
            await queue.put(i)

    start = perf_counter_ns()
    producer_task = asyncio.create_task(producer())
    total = 0
    for _ in range(n):
        total += await queue.get()
    await producer_task
    ns = (perf_counter_ns() - start) / n
    check(name, total, n * (n - 1) // 2)
    return ns, "ns/op", [], n


async def queue_pingpong_1(n):
    return await queue_pingpong(n, 1, "queue_pingpong_1")


async def queue_pingpong_1024(n):
    return await queue_pingpong(n, 1024, "queue_pingpong_1024")


async def semaphore_100k(n):
    semaphore = asyncio.Semaphore(100)
    active = 0
    peak = 0

    async def limited():
        nonlocal active, peak
        async with semaphore:
            active += 1
            peak = max(peak, active)
            await asyncio.sleep(0)
            active -= 1

    start = perf_counter_ns()
    tasks = [asyncio.create_task(limited()) for _ in range(n)]
    await asyncio.gather(*tasks)
    ns = (perf_counter_ns() - start) / n
    check("semaphore_100k max_concurrency", peak, min(100, n))
    return ns, "ns/op", [f"max_concurrency={peak}"], n


# --- TCP workloads ----------------------------------------------------------------------------


def nodelay_is_set(writer):
    sock = writer.get_extra_info("socket")
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


async def start_echo_server():
    """The echo server: writes back whatever each read returns. Returns (server, port, a list of
    each accepted socket's TCP_NODELAY state)."""
    nodelay = []

    async def handle_echo(reader, writer):
        nodelay.append(nodelay_is_set(writer))
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()

    server = await asyncio.start_server(handle_echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, port, nodelay


async def connect(port):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    if not nodelay_is_set(writer):
        raise CheckFailed("tcp: TCP_NODELAY is not set on the client's socket")
    return reader, writer


def messages_for(conn_id):
    """Two distinct 64-byte messages per connection, sent alternately."""
    return [bytes((conn_id * 7 + k * 131 + j) & 0xFF for j in range(MESSAGE_SIZE)) for k in range(2)]


async def round_trips(reader, writer, conn_id, rounds, name, samples=None):
    """rounds times: send 64 bytes, wait for the full echo, check it; returns bytes echoed."""
    messages = messages_for(conn_id)
    echoed = 0
    for r in range(rounds):
        message = messages[r & 1]
        if samples is not None:
            t0 = perf_counter_ns()
        writer.write(message)
        await writer.drain()
        reply = await reader.readexactly(MESSAGE_SIZE)
        if samples is not None:
            samples.append(perf_counter_ns() - t0)
        if reply != message:
            raise CheckFailed(f"{name}: connection {conn_id} round {r}: echo differs from what was sent")
        echoed += len(reply)
    return echoed


async def close_all(connections, server, server_nodelay, name):
    for _, writer in connections:
        writer.close()
    for _, writer in connections:
        await writer.wait_closed()
    server.close()
    await server.wait_closed()
    accepted_nodelay = sum(server_nodelay)
    check(f"{name} accepted connections with TCP_NODELAY", accepted_nodelay, len(connections))


async def tcp_echo_100conn(conns, rounds, warmup):
    name = "tcp_echo_100conn"
    server, port, server_nodelay = await start_echo_server()
    warm = await connect(port)
    await round_trips(*warm, -1, warmup, name)
    connections = await asyncio.gather(*(connect(port) for _ in range(conns)))
    start = perf_counter_ns()
    echoed = await asyncio.gather(
        *(asyncio.create_task(round_trips(r, w, c, rounds, name)) for c, (r, w) in enumerate(connections))
    )
    elapsed_s = (perf_counter_ns() - start) / 1e9
    await close_all([warm, *connections], server, server_nodelay, name)
    n = conns * rounds
    check(f"{name} echoed bytes", sum(echoed), n * MESSAGE_SIZE)
    return n / elapsed_s, "rt_per_s", [], n


async def tcp_latency_1conn(warmup, rounds):
    name = "tcp_latency_1conn"
    server, port, server_nodelay = await start_echo_server()
    connection = await connect(port)
    await round_trips(*connection, 0, warmup, name)
    samples = []
    echoed = await round_trips(*connection, 1, rounds, name, samples)
    await close_all([connection], server, server_nodelay, name)
    check(f"{name} echoed bytes", echoed, rounds * MESSAGE_SIZE)
    check(f"{name} samples", len(samples), rounds)
    samples.sort()

    def percentile_us(p):  # nearest rank
        rank = max(1, -(-p * len(samples) // 100))
        return samples[rank - 1] / 1000

    mean_us = sum(samples) / len(samples) / 1000
    return mean_us, "us", [f"p50={percentile_us(50):.2f}", f"p99={percentile_us(99):.2f}"], rounds


# --- driver -----------------------------------------------------------------------------------


def workloads(smoke, scale, loop_name):
    """(name, coroutine factory) in the suite's order; smoke counts ~1/1000, at least 100;
    `scale` multiplies the full counts (the driver's --quick)."""

    def count(full, small):
        return small if smoke else max(small, int(full * scale))

    return [
        ("await_direct", lambda: await_direct(count(1_000_000, 1_000))),
        ("spawn_await", lambda: spawn_await(count(1_000_000, 1_000))),
        ("yield_switch", lambda: yield_switch(count(1_000_000, 1_000))),
        ("gather_100k", lambda: gather_100k(count(100_000, 1_000))),
        ("timers_100k", lambda: timers_100k(count(100_000, 100), loop_name)),
        ("queue_pingpong_1", lambda: queue_pingpong_1(count(1_000_000, 1_000))),
        ("queue_pingpong_1024", lambda: queue_pingpong_1024(count(1_000_000, 1_000))),
        ("semaphore_100k", lambda: semaphore_100k(count(100_000, 1_000))),
        ("tcp_echo_100conn",
         lambda: tcp_echo_100conn(10, 100, 100) if smoke else tcp_echo_100conn(100, count(10_000, 100), 1_000)),
        ("tcp_latency_1conn",
         lambda: tcp_latency_1conn(100, 1_000) if smoke else tcp_latency_1conn(1_000, count(20_000, 1_000))),
    ]


def main():
    parser = argparse.ArgumentParser(description="coio benchmark peer: CPython asyncio / uvloop")
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    parser.add_argument("--only", default="", help="comma-separated workload names")
    parser.add_argument("--smoke", action="store_true", help="tiny counts, proves it runs")
    parser.add_argument("--list", action="store_true", help="print the workload names")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the full counts (e.g. 0.1)")
    parser.add_argument("--version", action="store_true", help="print the peer's versions")
    args = parser.parse_args()

    loop_factory = None
    version = f"asyncio (CPython {sys.version.split()[0]})"
    if args.loop == "uvloop":
        try:
            import uvloop
        except ImportError as e:
            print(f"asyncio_bench: --loop uvloop: uvloop is not available ({e})", file=sys.stderr)
            return 3
        loop_factory = uvloop.new_event_loop
        version = f"uvloop {uvloop.__version__} (CPython {sys.version.split()[0]})"

    if args.version:
        print(version)
        return 0
    table = workloads(args.smoke, args.scale, args.loop)
    if args.list:
        for name, _ in table:
            print(name)
        return 0

    only = {name for name in args.only.split(",") if name}
    for name, make in table:
        if only and name not in only:
            continue
        before = peak_rss_kib()
        try:
            with asyncio.Runner(loop_factory=loop_factory) as runner:
                value, unit, extra, n = runner.run(make())
        except CheckFailed as e:
            print(e, file=sys.stderr)
            return 1
        rss_mb = (peak_rss_kib() - before) / 1024
        fields = [f"{name}: {value:.2f} {unit}", *extra, f"rss_mb={rss_mb:.1f}", f"n={n}"]
        print(" ".join(fields), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
