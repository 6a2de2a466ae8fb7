#!/usr/bin/env bash
# Starts Elektromail in the background, waits until it is healthy, and writes what later steps
# need to $GITHUB_OUTPUT: the GitHub Action's script (action.yml), usable in any shell too.
#
# Settings come from the environment exactly as for the server (SMTP_PORT, IMAP_PORT,
# HTTP_PORT, ELEKTROMAIL_TLS, ELEKTROMAIL_USERS, ...; port 0 picks a free port), plus:
#   ELEKTROMAIL_ARGS           extra command-line flags, split on spaces
#   ELEKTROMAIL_START_TIMEOUT  seconds to wait for a healthy server (default 60)
#   ELEKTROMAIL_BIN            a compiled elektromail binary to run instead of main.ts
#   ELEKTROMAIL_DENO_VERSION   Deno from npm (npx) when no deno is on the PATH (default 2.9.6)
#   ELEKTROMAIL_LOG            the server's log file (default $RUNNER_TEMP/elektromail.log)
#
# Outputs (lines name=value appended to $GITHUB_OUTPUT, or on stdout without it): smtp-port,
# imap-port, http-port, smtps-port, imaps-port (empty when off), pid, log, and with TLS on:
# cert-fingerprint (SHA-256) and cert-file (the PEM, for clients to trust). Without
# GITHUB_OUTPUT the banner goes to stderr, so `action-start.sh > ports.env` or a pipe gets only
# the name=value lines.
#
# The server runs until the job ends (the runner stops leftover processes), or `kill <pid>`.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TIMEOUT="${ELEKTROMAIL_START_TIMEOUT:-60}"
TEMP="${RUNNER_TEMP:-${TMPDIR:-/tmp}}"
LOG="${ELEKTROMAIL_LOG:-$TEMP/elektromail.log}"
PERMISSIONS=(--allow-net --allow-env --allow-read --allow-write)
# The program's V8 flags (lib/v8_flags.ts says why; tests/v8_flags_test.ts keeps them equal).
V8_FLAGS=(--v8-flags=--max-semi-space-size=4,--initial-old-space-size=48,--no-minor-gc-task,--expose-gc,--no-flush-bytecode,--no-turbofan,--no-sparkplug,--managed-zone-memory,--invocation-count-for-maglev=100,--minimum-invocations-after-ic-update=100)
# `deno run` checks for a newer Deno ~1 s after it starts (a download from dl.deno.land; on a
# runner without a cached DENO_DIR, or offline, at every start): that lands on the tests' first
# commands, so the server's Deno does not check (README.md, Running it anywhere).
export DENO_NO_UPDATE_CHECK=1
# --no-config: the server reads no deno.json (this checkout's lists the tests' npm clients, and a
# project's own, found from the working directory, is not the server's); without one it also
# idles ~1.5-2 MB lower (README.md, Startup and idle memory).

# deno: how Deno is run (not set for a compiled binary).
if [ -n "${ELEKTROMAIL_BIN:-}" ]; then
  run=("$ELEKTROMAIL_BIN")
elif command -v deno >/dev/null 2>&1; then
  deno=(deno)
  run=(deno run --no-config "${PERMISSIONS[@]}" "${V8_FLAGS[@]}" "$ROOT/main.ts")
else
  echo "elektromail: no deno on the PATH; using Deno ${ELEKTROMAIL_DENO_VERSION:-2.9.6} from npm" >&2
  deno=(npx -y "deno@${ELEKTROMAIL_DENO_VERSION:-2.9.6}")
  run=("${deno[@]}" run --no-config "${PERMISSIONS[@]}" "${V8_FLAGS[@]}" "$ROOT/main.ts")
fi
# `deno cache` first, in a process of its own: a first `deno run` with a DENO_DIR that has not
# seen these modules (a fresh runner) parses and transpiles them all, and the server kept that
# memory, idling ~25 MB higher (76.2 against 50.8 MB, README.md, Startup and idle memory). A
# failure only costs that memory.
if [ -z "${ELEKTROMAIL_BIN:-}" ] && ! "${deno[@]}" cache --no-config --quiet "$ROOT/main.ts" >/dev/null 2>&1; then
  echo "elektromail: deno cache main.ts failed; starting anyway" >&2
fi
# ${extra[@]+...}: bash 3.2 (macOS) treats an empty array as unset under `set -u`.
read -r -a extra <<<"${ELEKTROMAIL_ARGS:-}"

mkdir -p "$(dirname "$LOG")"
: >"$LOG"
nohup "${run[@]}" ${extra[@]+"${extra[@]}"} >"$LOG" 2>&1 </dev/null &
pid=$!

# The port a banner line shows: "  SMTP  127.0.0.1:2525" -> 2525.
port_of() {
  sed -n "s/^ *$1 \{1,\}[^ ]*:\([0-9]\{1,5\}\)\$/\1/p" "$LOG" | head -n 1
}

deadline=$((SECONDS + TIMEOUT))
healthy=false
while [ $SECONDS -lt $deadline ]; do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "elektromail: the server exited before it was ready:" >&2
    cat "$LOG" >&2
    exit 1
  fi
  if grep -q "^ *logging " "$LOG"; then
    smtp="$(port_of SMTP)" imap="$(port_of IMAP)" http="$(port_of HTTP)"
    smtps="$(port_of SMTPS)" imaps="$(port_of IMAPS)"
    pop3="$(port_of POP3)" pop3s="$(port_of POP3S)"
    probe=(healthcheck --smtp-port "$smtp" --imap-port "$imap")
    [ -n "$http" ] && probe+=(--http-port "$http")
    [ -n "$smtps" ] && probe+=(--smtps-port "$smtps")
    [ -n "$imaps" ] && probe+=(--imaps-port "$imaps")
    [ -n "$pop3" ] && probe+=(--pop3-port "$pop3")
    [ -n "$pop3s" ] && probe+=(--pop3s-port "$pop3s")
    if "${run[@]}" ${extra[@]+"${extra[@]}"} "${probe[@]}" >/dev/null 2>&1; then
      healthy=true
      break
    fi
  fi
  sleep 0.2
done
if ! $healthy; then
  echo "elektromail: not healthy after ${TIMEOUT}s; log:" >&2
  cat "$LOG" >&2
  kill "$pid" 2>/dev/null || true
  exit 1
fi

fingerprint="$(sed -n 's/^ *SHA-256 \([0-9A-F:]\{95\}\)$/\1/p' "$LOG" | head -n 1)"
cert=""
if [ -n "$fingerprint" ] && [ -n "$http" ]; then
  cert="$TEMP/elektromail-cert.pem"
  if ! curl -sSf --max-time 10 -o "$cert" "http://127.0.0.1:$http/tls/cert" 2>/dev/null; then
    echo "elektromail: could not fetch /tls/cert; cert-file stays empty" >&2
    cert=""
  fi
fi

# Never reopen /dev/stdout: for a redirected stdout that opens the file anew at offset 0, and
# whatever is written through fd 1 afterwards lands over the outputs.
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  exec 3>>"$GITHUB_OUTPUT" 4>&1
else
  exec 3>&1 4>&2
fi
{
  echo "smtp-port=$smtp"
  echo "imap-port=$imap"
  echo "http-port=$http"
  echo "smtps-port=$smtps"
  echo "imaps-port=$imaps"
  echo "pid=$pid"
  echo "log=$LOG"
  echo "cert-fingerprint=$fingerprint"
  echo "cert-file=$cert"
} >&3
exec 3>&-
sed -n '/ready$/,/^ *logging /p' "$LOG" >&4
