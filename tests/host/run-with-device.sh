#!/usr/bin/env bash
# Runs a verbs program host-direct: starts hcasim-device on a temp socket,
# points HCASIM_SOCKET at it, runs the program, stops the device (which
# must exit 0).  Usage: run-with-device.sh DEVICE-BIN PROGRAM [ARGS...]
set -euo pipefail
dev=${1:?device binary}
shift
work=$(mktemp -d)
"$dev" --socket "$work/hca.sock" --trace "$work/trace.log" &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
for _ in $(seq 100); do [ -S "$work/hca.sock" ] && break; sleep 0.05; done
status=0
HCASIM_SOCKET=$work/hca.sock "$@" || status=$?
kill -TERM "$pid"
dev_status=0
wait "$pid" || dev_status=$?
[ "$dev_status" -eq 0 ] || { echo "hcasim-device exited $dev_status"; exit 1; }
exit "$status"
