#!/usr/bin/env bash
# Full system: the ConnectX-5 model probed by the guest's own drivers
# (scripts/run-vm --model connectx5: trixie-backports' kernel, no hcasim
# code in the guest). mlx5_core and mlx5e load and make a netdev; the
# guest's dmesg has no line at warning level or above except those
# docs/connectx5.md allows, with their reasons; `ethtool -i` names
# mlx5_core and the model's firmware version; the device trace names every
# command the drivers issued, and none answered BAD_OP_ERR.
set -euo pipefail
src=${1:?source dir}
build=${2:?build dir}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$tmp/console
trace=$tmp/device.trace
status=0
HCASIM_BUILD_DIR=$build "$src/scripts/run-vm" --model connectx5 --trace-file "$trace" --timeout 600 -- sh -c '
    echo "--- dmesg warn"
    dmesg --color=never -l emerg,alert,crit,err,warn
    echo "--- end"
    for i in /sys/class/net/*; do
        n=${i##*/}
        [ "$n" = lo ] && continue
        echo "--- ethtool $n"
        ethtool -i "$n"
    done
    ip -br link' >"$out" 2>&1 || status=$?
cat "$out"
fail() { echo "FAIL: $*"; exit 1; }
[ "$status" -eq 0 ] || fail "run-vm exited $status"
# The drivers' lines (mlx5 ones, and any kernel WARNING), less those
# docs/connectx5.md allows: the model has no vendor-specific capability.
allowed='Failed to get valid vendor specific ID'
warnings=$(awk '/^--- dmesg warn/ { f = 1; next } /^--- end/ { f = 0 } f' "$out" | grep -E 'mlx5|WARNING' |
    grep -vE "$allowed" || true)
[ -z "$warnings" ] || fail "dmesg has warnings: $warnings"
grep -q 'Call Trace' "$out" && fail "a kernel warning or oops on the console"
grep -q '^driver: mlx5_core' "$out" || fail "no netdev driven by mlx5_core"
grep -q '^firmware-version: 16\.99\.' "$out" || fail "ethtool -i has not the model's firmware version"
grep -q ' fw_cmd ' "$trace" || fail "the device traced no command"
if grep ' fw_cmd ' "$trace" | grep -q 'status=BAD_OP_ERR'; then
    fail "commands answered BAD_OP_ERR: $(grep ' fw_cmd ' "$trace" | grep 'status=BAD_OP_ERR' | awk '{ print $4 }' | sort -u | tr '\n' ' ')"
fi
echo "commands: $(grep -c ' fw_cmd ' "$trace"), by name:"
grep ' fw_cmd ' "$trace" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^op=/) print substr($i, 4) }' | sort | uniq -c
echo "full-system cx5-probe: passed"
