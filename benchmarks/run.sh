#!/usr/bin/env bash
# benchmarks/run.sh: the main job. Installs what is missing, builds coio and the peers in
# Release, runs every example, then runs the benchmark suite: every workload of coio, Boost.Asio,
# tokio, uvloop and asyncio N times (each in a fresh process), one table with medians, ratios
# and memory, written with a chart to benchmarks/results/ (see benchmarks/compare.py).
#
#   bash benchmarks/run.sh [--runs N] [--only w1,w2] [--peers coio,asio,tokio,uvloop,asyncio]
#                          [--quick] [--no-examples] [--build-dir DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/cmake/deps.sh"

suite_args=()
examples=1
build_dir="$root/build/release"
while [ $# -gt 0 ]; do
  case "$1" in
    --runs | --only | --peers) suite_args+=("$1" "$2"); shift 2 ;;
    --quick) suite_args+=("$1"); shift ;;
    --no-examples) examples=0; shift ;;
    --build-dir) build_dir=$2; shift 2 ;;
    -h | --help) sed -n 2,9p "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done

# The peers and the tools of the suite: Boost.Asio, uvloop, tokio's crates (built offline by
# cargo), strace (syscalls_per_echo) and gnuplot (the chart).
peer_packages="libboost1.81-dev python3 python3-uvloop librust-tokio-dev strace gnuplot-nox"
command -v cargo >/dev/null 2>&1 || peer_packages="$peer_packages cargo"
# shellcheck disable=SC2046,SC2086
coio_need_packages $(coio_base_packages) g++ $peer_packages
# BENCHMARKS.md fixes -O2 -DNDEBUG (CMake's Release default is -O3).
cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" \
  -DCOIO_BUILD_TESTS=OFF >/dev/null
cmake --build "$build_dir" -j "$(nproc)"

if [ "$examples" = 1 ]; then
  echo
  echo "== examples"
  for exe in "$build_dir"/examples/*; do
    [ -f "$exe" ] && [ -x "$exe" ] || continue
    echo "-- $(basename "$exe")"
    "$exe"
  done
fi

echo
echo "== benchmark suite"
python3 "$root/benchmarks/compare.py" --build-dir "$build_dir" "${suite_args[@]}"
