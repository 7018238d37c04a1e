#!/usr/bin/env bash
# benchmarks/run.sh: the main job. Builds coio in Release, runs every example, then runs the
# benchmark workloads N times (each in a fresh process) and prints the median of each.
# Installs missing Debian packages when root.
#
#   bash benchmarks/run.sh [--runs N] [--only w1,w2] [--build-dir DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/cmake/deps.sh"

runs=3
only=""
build_dir="$root/build/release"
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --build-dir) build_dir=$2; shift 2 ;;
    -h | --help) sed -n 2,7p "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done

# shellcheck disable=SC2046
coio_need_packages $(coio_base_packages) g++ python3
# BENCHMARKS.md fixes -O2 -DNDEBUG (CMake's Release default is -O3).
cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" \
  -DCOIO_BUILD_TESTS=OFF >/dev/null
cmake --build "$build_dir" -j "$(nproc)"

echo
echo "== examples"
for exe in "$build_dir"/examples/*; do
  [ -f "$exe" ] && [ -x "$exe" ] || continue
  echo "-- $(basename "$exe")"
  "$exe"
done

echo
echo "== benchmarks: $runs runs each, median ($(g++ --version | head -1), -O2 -DNDEBUG)"
workloads=${only:-$("$build_dir/benchmarks/coio_bench" --list)}
outputs=()
for ((i = 1; i <= runs; i++)); do
  out=$(mktemp)
  # One workload per process: peak-RSS deltas must not inherit an earlier workload's pages.
  for w in ${workloads//,/ }; do
    "$build_dir/benchmarks/coio_bench" --only "$w" >>"$out" 2>/dev/null
  done
  outputs+=("$out")
done
python3 - "${outputs[@]}" <<'PY'
import re, statistics, sys
values, units, extras = {}, {}, {}
for path in sys.argv[1:]:
    for line in open(path):
        m = re.match(r"(\w+): ([-\d.]+) (\S+)(.*)", line)
        if not m:
            continue
        values.setdefault(m[1], []).append(float(m[2]))
        units[m[1]] = m[3]
        for key, val in re.findall(r"(\w+)=([-\d.]+)", m[4]):
            if key != "n":
                extras.setdefault(m[1], {}).setdefault(key, []).append(float(val))
print(f"{'workload':<18} {'median':>10} {'unit':<12} {'min':>10} {'max':>10}  extra (medians)")
for name, vs in values.items():
    extra = " ".join(f"{k}={statistics.median(v):g}" for k, v in extras.get(name, {}).items())
    print(f"{name:<18} {statistics.median(vs):>10.2f} {units[name]:<12} {min(vs):>10.2f} {max(vs):>10.2f}  {extra}")
PY
rm -f "${outputs[@]}"
