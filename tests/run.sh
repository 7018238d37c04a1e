#!/usr/bin/env bash
# tests/run.sh: builds coio and runs every test (unit tests, example smoke tests, the
# benchmark smoke run, the consumer projects). Installs missing Debian packages when root.
#
#   bash tests/run.sh [--compiler g++|clang++-14|clang++-19] [--build-type Debug|Release]
#                     [--sanitize address,undefined|thread] [--label LABEL] [--werror]
#                     [--build-dir DIR] [--jobs N]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/cmake/deps.sh"

compiler=g++
build_type=Debug
sanitize=""
label=""
werror=OFF
jobs=$(nproc)
build_dir=""
while [ $# -gt 0 ]; do
  case "$1" in
    --compiler) compiler=$2; shift 2 ;;
    --build-type) build_type=$2; shift 2 ;;
    --sanitize) sanitize=$2; shift 2 ;;
    --label) label=$2; shift 2 ;;
    --werror) werror=ON; shift ;;
    --build-dir) build_dir=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    -h | --help) sed -n 2,8p "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
[ -n "$build_dir" ] || build_dir="$root/build/test-${compiler}-${build_type}${sanitize:+-${sanitize//,/-}}"

# python3: the stream tests talk to Python asyncio clients and servers.
# shellcheck disable=SC2046
coio_need_packages $(coio_base_packages) $(coio_compiler_packages "$compiler") python3

echo "== coio tests: $compiler $build_type${sanitize:+ sanitize=$sanitize}${label:+ label=$label}"
cmake -S "$root" -B "$build_dir" -G Ninja \
  -DCMAKE_CXX_COMPILER="$compiler" -DCMAKE_BUILD_TYPE="$build_type" \
  -DCOIO_SANITIZE="$sanitize" -DCOIO_WERROR="$werror" >/dev/null
cmake --build "$build_dir" -j "$jobs"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
ctest --test-dir "$build_dir" --output-on-failure -j "$jobs" ${label:+-L "$label"}
