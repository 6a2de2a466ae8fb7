#!/usr/bin/env bash
# Builds single-binary executables with `deno compile`. Not ready yet: the TLS and
# distribution issue fills this in (targets, DENORT_BIN, permissions).
echo "compile.sh: not ready yet (see the TLS/distribution issue)" >&2
exit 1
