#!/usr/bin/env bash
# cmake/deps.sh: sourced by tests/run.sh and benchmarks/run.sh.
# coio_need_packages PKG...: installs the Debian packages that are missing (when root), or
# prints the exact apt-get line and fails (when not).

coio_need_packages() {
  local missing=()
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -eq 0 ]; then
    echo "coio: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    if [ -z "${COIO_APT_UPDATED:-}" ]; then
      apt-get update -qq >&2
      export COIO_APT_UPDATED=1
    fi
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  else
    echo "coio: missing packages; run:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    return 1
  fi
}

# The Debian packages a C++ compiler name needs (plus the sanitizer runtimes for clang).
coio_compiler_packages() {
  case "$1" in
    g++ | g++-12) echo g++ ;;
    clang++ | clang++-14) echo clang-14 libclang-rt-14-dev ;;
    clang++-*) echo "clang-${1#clang++-} libclang-rt-${1#clang++-}-dev" ;;
    *) echo "" ;;
  esac
}

# coio_base_packages: what every build of coio needs.
coio_base_packages() { echo cmake ninja-build catch2 libfmt-dev pkg-config; }
