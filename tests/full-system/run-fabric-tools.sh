#!/usr/bin/env bash
# Full system: two guests on one wire (scripts/run-fabric: a vde_switch,
# or libvdeplug4's switch above MTU 1500, each guest with a virtio-net NIC
# on it).  Guest a has an hcasim HCA whose
# port 1 is on the same switch; guest b has either another hcasim HCA or
# Linux Soft-RoCE (the Debian kernel's rdma_rxe on its eth0, with Debian's
# libibverbs and rxe provider):
#
#   run-fabric-tools.sh SRC BUILD hcasim|rxe [MTU]
#
# MTU: the Ethernet MTU of the wire and every port (run-fabric --mtu;
# default 1500, RoCE MTU 1024).  At 9000 (RoCE MTU 4096, libvdeplug4's
# switch) the capture must also hold full 4096-byte payloads from both
# ends.
#
# rdma-core's tools, unchanged from Debian sid (ibverbs-utils and perftest),
# run between the guests in BOTH directions: once with a as the server and
# b as the client, once the other way round.  Every frame between the two
# HCAs is RoCEv2 on the switch; there is no other path.  Each side asserts
# its tool's exit status and the output line that shows traffic ran;
# ibv_rc_pingpong also checks every received buffer (--chk).  The test
# then decodes HCA a's capture (hcasim-device --pcap) with tshark: every
# frame RoCE, ARP or the guests' own IPv6 neighbour chatter, none malformed,
# and the RoCE frames carry SENDs, WRITEs, READ requests and responses,
# ACKs and atomic ACKs from both ends.
#
# No timing guesses: hcasim-fabric-pair (guest/fabric-pair.sh) starts a
# client only once its server listens on TCP port 18515 and the server has
# said so through the guests' shared directory; each tool runs under a
# generous timeout that only a hang reaches.
set -euo pipefail
src=${1:?source dir}
build=${2:?build dir}
peer=${3:?peer kind: hcasim or rxe}
mtu=${4:-1500}
work=$(mktemp -d)
trap '[ -n "${HCASIM_KEEP:-}" ] || rm -rf "$work"' EXIT

# The guest side (sid's dash), the same script in both guests: prints
# "ok NAME" / "FAIL NAME: why" lines and a closing
# "fabric-tools SELF: N passed, M failed".
read -r -d '' guest <<'GUEST' || true
DEV="-d $HCASIM_FABRIC_DEV"
export HCASIM_PAIR_TIMEOUT=120
passed=0
failed=0

# pair NAME SERVER SPAT CPAT TOOL ARGS...: guest SERVER (a or b) runs
# TOOL ARGS as the server, the other guest as the client; this side must
# exit 0 and print a line matching its extended regexp (SPAT on the server,
# CPAT on the client; empty: no line required).
pair() {
    name=$1 server=$2 spat=$3 cpat=$4
    shift 4
    if [ "$server" = "$HCASIM_FABRIC_SELF" ]; then
        role=server pat=$spat
        set -- server "$name" "$@"
    else
        role=client pat=$cpat
        set -- client "$name" "$HCASIM_FABRIC_PEER" "$@"
    fi
    why=""
    hcasim-fabric-pair "$@" || why=" this side exited non-zero;"
    [ -z "$pat" ] || grep -Eq "$pat" "/tmp/$name.$role" || why="$why the $role printed no /$pat/;"
    if [ -z "$why" ]; then
        passed=$((passed + 1)); echo "ok $name"
    else
        failed=$((failed + 1)); echo "FAIL $name:$why"
    fi
}

# "<bytes> bytes in <s> seconds = <rate>" on both sides
PP='^[0-9]+ bytes in [0-9.]+ seconds = '
# perftest's result row: "<bytes> <iterations> <numbers...>"; read and
# atomic latency print it only on the client.
row() { printf '^ *%s +%s +[0-9]+[.][0-9]+ +[0-9]+[.][0-9]+\n' "$1" "$2"; }
PT="$DEV -x $HCASIM_FABRIC_GID"
# READ and atomics: -o 16.  perftest sets the requester's max_rd_atomic to
# the responder's outstanding reads; rxe offers 128, and hcasim, like a
# ConnectX (mlx5 log_max_ra_res_qp), allows 16: more is EINVAL at RTS.
RD="$PT -o 16"
for s in a b; do
    pair ibv_rc_pingpong.$s $s "$PP" "$PP" ibv_rc_pingpong $DEV -g $HCASIM_FABRIC_GID -n 200 --chk
    pair ibv_ud_pingpong.$s $s "$PP" "$PP" ibv_ud_pingpong $DEV -g $HCASIM_FABRIC_GID -n 200 -s 1024
    pair ib_send_bw.$s $s "$(row 8192 300)" "$(row 8192 300)" ib_send_bw $PT -s 8192 -n 300
    # RNR on multi-packet SENDs: the server keeps one receive posted (-r 1)
    # while the client sends 16 KiB messages (16 packets) back to back, so
    # most of them meet an RNR NAK and wait out the RNR timer (perftest:
    # rnr_retry 7) - in both directions, hcasim and the peer each the
    # requester once.
    pair ib_send_bw_rnr.$s $s "$(row 16384 200)" "$(row 16384 200)" ib_send_bw $PT -s 16384 -n 200 -r 1
    pair ib_write_bw.$s $s "$(row 8192 300)" "$(row 8192 300)" ib_write_bw $PT -s 8192 -n 300
    pair ib_write_lat.$s $s "$(row 2 200)" "$(row 2 200)" ib_write_lat $PT -n 200
    pair ib_read_bw.$s $s "$(row 8192 300)" "$(row 8192 300)" ib_read_bw $RD -s 8192 -n 300
    pair ib_atomic_bw.$s $s "$(row 8 300)" "$(row 8 300)" ib_atomic_bw $RD -n 300
done
echo "fabric-tools $HCASIM_FABRIC_SELF: $passed passed, $failed failed"
[ $failed -eq 0 ]
GUEST

status=0
HCASIM_BUILD_DIR=$build "$src/scripts/run-fabric" --b "$peer" --pcap "$work/a.pcap" --mtu "$mtu" --timeout 900 \
    --cmd-a "$guest" --cmd-b "$guest" >"$work/out" 2>&1 || status=$?
cat "$work/out"
fail() { echo "FAIL: $*"; exit 1; }
[ "$status" -eq 0 ] || fail "run-fabric exited $status"
tools="ibv_rc_pingpong ibv_ud_pingpong ib_send_bw ib_send_bw_rnr ib_write_bw ib_write_lat ib_read_bw ib_atomic_bw"
for g in a b; do
    grep -qx "$g| fabric-tools $g: 16 passed, 0 failed" "$work/out" || fail "guest $g: expected 16 pairs to pass"
    for t in $tools; do
        for s in a b; do
            grep -qx "$g| ok $t.$s" "$work/out" || fail "guest $g: expected: ok $t.$s"
        done
    done
done

# HCA a's capture, decoded by Debian's tshark, its payload heuristics off
# (RPC-over-RDMA misreads small SEND payloads; "identify payload" takes a
# 2-byte WRITE's data for an Ethertype and rxe's frames alike turn
# "malformed").
tshark=(tshark -r "$work/a.pcap" --disable-protocol rpcordma -o infiniband.identify_payload:FALSE)
"${tshark[@]}" -T fields -e frame.protocols >"$work/protocols" 2>"$work/tshark.err" ||
    { cat "$work/tshark.err"; fail "tshark could not read the capture"; }
bad=$(grep -Ev '^eth:ethertype:(arp|ip:udp:infiniband|ipv6)' "$work/protocols" | sort | uniq -c || true)
[ -z "$bad" ] || fail "frames not decoded as RoCE, ARP or IPv6: $bad"
"${tshark[@]}" -Y _ws.malformed -V 2>/dev/null >"$work/malformed"
if [ -s "$work/malformed" ]; then
    head -150 "$work/malformed"
    fail "$(grep -c '^Frame ' "$work/malformed") malformed frames in the capture"
fi
"${tshark[@]}" -Y infiniband -T fields -e ip.src -e infiniband.bth.opcode 2>/dev/null |
    sort | uniq -c >"$work/opcodes"
echo "--- RoCE frames in HCA a's capture: count, source, BTH opcode"
sed 's/^/    /' "$work/opcodes"
b_ip=10.0.0.12
[ "$peer" = hcasim ] || b_ip=10.0.0.2
# IBTA vol 1 9.2: RC opcodes 0x00-0x05 SEND, 0x06-0x0b WRITE, 0x0c READ
# request, 0x0d-0x10 READ response, 0x11 ACK, 0x12 ATOMIC ACK,
# 0x13/0x14 CMP_SWAP/FETCH_ADD; 0x64 UD SEND only.
for src_ip in 10.0.0.11 "$b_ip"; do
    for op in '(0|1|2|4)' '(6|7|8|10)' 12 '(13|14|15|16)' 17 18 '(19|20)' 100; do
        grep -Eq "^ *[0-9]+ $src_ip[[:space:]]+$op\$" "$work/opcodes" ||
            fail "no frame from $src_ip with BTH opcode $op in the capture"
    done
done
# ib_send_bw_rnr made both ends answer RNR NAKs (AETH syndrome 001xxxxx,
# IBTA 9.7.5.2.8), and both requesters got through them.
"${tshark[@]}" -Y 'infiniband.aeth.syndrome >= 32 && infiniband.aeth.syndrome < 64' -T fields -e ip.src \
    2>/dev/null | sort | uniq -c >"$work/rnr"
echo "--- RNR NAKs in HCA a's capture: count, source"
sed 's/^/    /' "$work/rnr"
for src_ip in 10.0.0.11 "$b_ip"; do
    grep -Eq "^ *[0-9]+ $src_ip\$" "$work/rnr" || fail "no RNR NAK from $src_ip in the capture"
done
if [ "$mtu" -ge 4192 ]; then
    # Ethernet 14 + IPv4 20 + UDP 8 + BTH 12 + 4096 + ICRC 4: a full
    # middle packet of a RoCE MTU of 4096
    "${tshark[@]}" -Y 'infiniband && frame.len >= 4154' -T fields -e ip.src 2>/dev/null |
        sort | uniq -c >"$work/jumbo"
    echo "--- frames of 4096-byte payloads or more: count, source"
    sed 's/^/    /' "$work/jumbo"
    for src_ip in 10.0.0.11 "$b_ip"; do
        grep -Eq "^ *[0-9]+ $src_ip\$" "$work/jumbo" || fail "no 4096-byte payload from $src_ip at MTU $mtu"
    done
fi
total=$(wc -l <"$work/protocols")
echo "full-system fabric tools (hcasim <-> $peer, MTU $mtu): passed; $total frames captured, none malformed"
