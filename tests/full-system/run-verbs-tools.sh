#!/usr/bin/env bash
# Full system: rdma-core's own tools, unchanged from Debian sid
# (ibverbs-utils 65 and perftest), on hcasim's libraries and HCA in ONE
# pyverbs guest.  Every pair is two processes on the one HCA: the server in
# the background, the client against 127.0.0.1 (TCP port 18515 for the
# exchange of QPN/PSN/GID), over the HCA's loopback port with GID index 1
# (the RoCE v2 IPv4 GID).  Each tool runs once, briefly; the test asserts
# its exit status and the line of its output that shows traffic ran
# (pingpong's "bytes in ... seconds", perftest's result row).
#
# No timing guesses: the guest's hcasim-pair (guest/pair.sh) starts a
# client only once its server listens on TCP port 18515, and every tool
# runs under a generous timeout that only a hang reaches.
set -euo pipefail
src=${1:?source dir}
build=${2:?build dir}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# The guest side (sid's dash): prints "ok NAME" / "FAIL NAME: why" lines
# and a closing "verbs-tools: N passed, M failed".
read -r -d '' guest <<'GUEST' || true
DEV="-d hcasim0"
TMO=120
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }

# show NAME FILE: the output of one side, indented.
show() {
    echo "--- $1"
    sed 's/^/    /' "$2"
}

# pair NAME SERVER-PATTERN CLIENT-PATTERN TOOL ARGS...: hcasim-pair (server,
# then the client once the server listens; perftest's failed clock
# calibrations run again); both sides must exit 0, and their outputs must
# match the extended regexps (an empty pattern: no line is required of that
# side).
pair() {
    name=$1 spat=$2 cpat=$3
    shift 3
    srv=/tmp/$name.server cli=/tmp/$name.client
    why=""
    HCASIM_PAIR_TIMEOUT=$TMO hcasim-pair "$name" "$@" || why=" a side exited non-zero;"
    show "$name server" "$srv"
    show "$name client" "$cli"
    [ -z "$spat" ] || grep -Eq "$spat" "$srv" || why="$why server printed no /$spat/;"
    [ -z "$cpat" ] || grep -Eq "$cpat" "$cli" || why="$why client printed no /$cpat/;"
    if [ -z "$why" ]; then ok "$name"; else bad "$name:$why"; fi
}

echo "--- ibv_devinfo"
if timeout $TMO ibv_devinfo $DEV -v >/tmp/devinfo 2>&1; then
    sed 's/^/    /' /tmp/devinfo
    if grep -Eq '^hca_id:[[:space:]]+hcasim0$' /tmp/devinfo &&
        grep -Eq 'state:[[:space:]]+PORT_ACTIVE \(4\)' /tmp/devinfo &&
        grep -Eq 'link_layer:[[:space:]]+Ethernet' /tmp/devinfo &&
        grep -Eq 'GID\[ *1\]:.*RoCE v2' /tmp/devinfo; then
        ok ibv_devinfo
    else
        bad "ibv_devinfo: no hcasim0 with an ACTIVE Ethernet port and a RoCE v2 GID 1"
    fi
else
    sed 's/^/    /' /tmp/devinfo
    bad "ibv_devinfo: exited non-zero"
fi

# ibverbs-utils: "<bytes> bytes in <s> seconds = <rate>" on both sides
PP='^[0-9]+ bytes in [0-9.]+ seconds = '
pair ibv_rc_pingpong "$PP" "$PP" ibv_rc_pingpong $DEV -g 1 -n 100
pair ibv_rc_pingpong-j "$PP" "$PP" ibv_rc_pingpong $DEV -g 1 -n 100 -j
# -e: completion channels, CQ events through the hcasim_irq module
pair ibv_rc_pingpong-e "$PP" "$PP" ibv_rc_pingpong $DEV -g 1 -n 100 -e
pair ibv_ud_pingpong "$PP" "$PP" ibv_ud_pingpong $DEV -g 1 -n 100
pair ibv_srq_pingpong "$PP" "$PP" ibv_srq_pingpong $DEV -g 1 -n 100

# perftest's result row: "<bytes> <iterations> <numbers...>".  Bandwidth
# tests print it on both sides; read and atomic latency only on the client.
row() { printf '^ *%s +%s +[0-9]+[.][0-9]+ +[0-9]+[.][0-9]+\n' "$1" "$2"; }
PT="$DEV -x 1"
pair ib_write_bw "$(row 65536 500)" "$(row 65536 500)" ib_write_bw $PT -n 500
pair ib_write_lat "$(row 2 200)" "$(row 2 200)" ib_write_lat $PT -n 200
pair ib_read_bw "$(row 65536 500)" "$(row 65536 500)" ib_read_bw $PT -n 500
pair ib_read_lat "" "$(row 2 200)" ib_read_lat $PT -n 200
pair ib_send_bw "$(row 65536 500)" "$(row 65536 500)" ib_send_bw $PT -n 500
pair ib_send_lat "$(row 2 200)" "$(row 2 200)" ib_send_lat $PT -n 200
pair ib_atomic_bw "$(row 8 500)" "$(row 8 500)" ib_atomic_bw $PT -n 500
pair ib_atomic_lat "" "$(row 8 200)" ib_atomic_lat $PT -n 200

echo "verbs-tools: $passed passed, $failed failed"
[ $failed -eq 0 ]
GUEST

status=0
HCASIM_BUILD_DIR=$build "$src/scripts/run-vm" --guest pyverbs --smp 2 --timeout 900 \
    -- sh -c "$guest" >"$out" 2>&1 || status=$?
cat "$out"
fail() { echo "FAIL: $*"; exit 1; }
[ "$status" -eq 0 ] || fail "the guest exited $status"
grep -q '^verbs-tools: 14 passed, 0 failed$' "$out" || fail "expected 14 tools to pass"
for t in ibv_devinfo ibv_rc_pingpong ibv_rc_pingpong-j ibv_rc_pingpong-e ibv_ud_pingpong ibv_srq_pingpong \
         ib_write_bw ib_write_lat ib_read_bw ib_read_lat ib_send_bw ib_send_lat \
         ib_atomic_bw ib_atomic_lat; do
    grep -qx "ok $t" "$out" || fail "expected: ok $t"
done
echo "full-system verbs tools: passed"
