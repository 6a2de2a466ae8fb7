#!/usr/bin/env bash
# Builds Elektromail as single executables with `deno compile`, with exactly the permissions
# the server needs: network (listen, and connect for `healthcheck`), environment (settings),
# read (TLS_CERT/TLS_KEY files, the database) and write (the database, a kept certificate).
# `--no-config`: deno.json's imports and lock hold the test clients (imapflow, nodemailer, ~6 MB)
# and `deno compile` would embed them all; the program itself imports no npm package (its
# generated certificates come from its own DER writer, lib/net/self_signed.ts).
#
# Usage: ./compile.sh [--dry-run] [target ...]
#   target    linux-x64 linux-arm64 macos-x64 macos-arm64 windows-x64, `host` (this machine's),
#             or `all` (the default: every one of the five)
#   --dry-run print the deno compile commands instead of running them
#
# Output: $OUT_DIR/elektromail-<target> (elektromail-windows-x64.exe), OUT_DIR defaults to dist.
#
# Environment:
#   DENORT_BIN  a denort runtime binary to embed, instead of the one `deno compile` downloads
#               from dl.deno.land. It must be the runtime of the target, so it needs exactly
#               one target (without one, `host` is built).
#   DENO        the deno executable (default: deno on the PATH)
set -euo pipefail
cd "$(dirname "$0")"

DENO="${DENO:-deno}"
OUT_DIR="${OUT_DIR:-dist}"
PERMISSIONS=(--allow-net --allow-env --allow-read --allow-write)
# The program's V8 flags (lib/v8_flags.ts says why; tests/v8_flags_test.ts keeps them equal).
V8_FLAGS=(--v8-flags=--max-semi-space-size=4,--initial-old-space-size=48,--no-minor-gc-task,--expose-gc,--no-flush-bytecode,--no-turbofan,--no-sparkplug,--managed-zone-memory,--invocation-count-for-maglev=100,--minimum-invocations-after-ic-update=100)
ALL=(linux-x64 linux-arm64 macos-x64 macos-arm64 windows-x64)

usage() {
  sed -n '9,21p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

triple() {
  case "$1" in
    linux-x64) echo x86_64-unknown-linux-gnu ;;
    linux-arm64) echo aarch64-unknown-linux-gnu ;;
    macos-x64) echo x86_64-apple-darwin ;;
    macos-arm64) echo aarch64-apple-darwin ;;
    windows-x64) echo x86_64-pc-windows-msvc ;;
    *) return 1 ;;
  esac
}

host_target() {
  local os arch
  case "$(uname -s)" in
    Linux) os=linux ;;
    Darwin) os=macos ;;
    MINGW* | MSYS* | CYGWIN*) os=windows ;;
    *) echo "compile.sh: unsupported host OS $(uname -s)" >&2 && exit 2 ;;
  esac
  case "$(uname -m)" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "compile.sh: unsupported host CPU $(uname -m)" >&2 && exit 2 ;;
  esac
  echo "$os-$arch"
}

dry_run=false
targets=()
for arg in "$@"; do
  case "$arg" in
    --dry-run) dry_run=true ;;
    -h | --help) usage ;;
    all) targets+=("${ALL[@]}") ;;
    host) targets+=("$(host_target)") ;;
    -*) echo "compile.sh: unknown option $arg" >&2 && usage ;;
    *)
      if ! triple "$arg" >/dev/null; then
        echo "compile.sh: unknown target $arg (one of: ${ALL[*]} host all)" >&2
        exit 2
      fi
      targets+=("$arg")
      ;;
  esac
done
if [ ${#targets[@]} -eq 0 ]; then
  if [ -n "${DENORT_BIN:-}" ]; then targets=("$(host_target)"); else targets=("${ALL[@]}"); fi
fi
if [ -n "${DENORT_BIN:-}" ]; then
  if [ ${#targets[@]} -ne 1 ]; then
    echo "compile.sh: DENORT_BIN is one target's runtime: give exactly one target" >&2
    exit 2
  fi
  if [ ! -f "$DENORT_BIN" ]; then
    echo "compile.sh: DENORT_BIN=$DENORT_BIN is not a file" >&2
    exit 2
  fi
fi

mkdir -p "$OUT_DIR"
for target in "${targets[@]}"; do
  output="$OUT_DIR/elektromail-$target"
  [ "$target" = windows-x64 ] && output="$output.exe"
  command=("$DENO" compile --no-config "${PERMISSIONS[@]}" "${V8_FLAGS[@]}" --target "$(triple "$target")" --output "$output" main.ts)
  if $dry_run; then
    echo "${command[*]}"
  else
    echo "compile.sh: building $output" >&2
    "${command[@]}"
  fi
done
