#!/bin/sh
# Builds the tokio peer offline against Debian's crate sources (librust-tokio-dev) and prints
# the binary's path as the last line on stdout.
#
#   build.sh [target-dir]        (default /tmp/h-tokio-target)
#
# Exit 3 (the suite's "skipped") when cargo or the crates are not on this machine.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
target_dir=${1:-/tmp/h-tokio-target}
registry=/usr/share/cargo/registry

if ! command -v cargo >/dev/null 2>&1; then
  echo "tokio peer skipped: cargo is not installed (Debian: apt install cargo librust-tokio-dev)" >&2
  exit 3
fi

# tokio with features rt, macros, time, sync, net, io-util and what those pull in.
missing=""
for crate in tokio-1. tokio-macros- mio-0.8 socket2-0.4 bytes-1. memchr-2. libc-0.2 pin-project-lite-0.2 \
             autocfg-1. proc-macro2-1. quote-1. syn-1.; do
  set -- "$registry/$crate"*
  [ -d "$1" ] || missing="$missing ${crate%[-.]}"
done
if [ -n "$missing" ]; then
  echo "tokio peer skipped: $registry lacks:$missing (Debian: apt install librust-tokio-dev)" >&2
  exit 3
fi

cd "$here"  # cargo reads .cargo/config.toml (the offline directory source) from the cwd
CARGO_TARGET_DIR=$target_dir cargo build --release --offline --jobs "${CARGO_BUILD_JOBS:-2}" >&2
echo "$target_dir/release/coio-tokio-peer"
