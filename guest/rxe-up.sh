#!/bin/sh
# guest/rxe-up.sh: installed as /usr/local/bin/hcasim-rxe-up in the pyverbs
# guest (guest/mkinitramfs --flavour pyverbs).  Brings up Linux Soft-RoCE,
# the peer scripts/bench measures hcasim against, in a guest started with
# `scripts/run-vm --guest pyverbs --no-hca`:
#
#   hcasim-rxe-up [--netdev IF]
#
#   - insmods the kernel RDMA stack, in the order of
#     /hcasim/modules/rxe.list (ib_core, ib_uverbs, udp tunnels, rdma_rxe,
#     veth, crc32_generic: guest/init switches module autoloading off, so
#     nothing is loaded on demand);
#   - makes a veth pair veth0/veth1, both up, with no address but IPv6
#     link-local (duplicate address detection off, so it is usable at
#     once): rxe's only GID is then index 0, RoCE v2, fe80::/64 from
#     veth0's MAC; no IPv4 address is needed and none is configured;
#   - `rdma link add rxe0 type rxe netdev veth0` with iproute2's own rdma
#     (/usr/bin/rdma: the /usr/local/bin/rdma of this image is hcasim's
#     stand-in);
#   - waits until rxe0's port 1 is ACTIVE with a GID at index 0.
# With --netdev IF (scripts/run-fabric's rxe guest: IF is eth0, the
# virtio-net NIC on the switch, with an IPv4 address) there is no veth
# pair: rxe0 runs on IF, and the wait is also for GID index 1, the RoCE v2
# IPv4-mapped GID of IF's address (::ffff:a.b.c.d), the one its peers use.
# Programs that use rxe0 must run on Debian's libibverbs and its rxe
# provider: run them without LD_LIBRARY_PATH=/usr/lib/hcasim.
# Prints "hcasim-rxe-up: rxe0 ready" or a reason and exits non-zero.

log() { echo "hcasim-rxe-up: $*"; }
LIST=/hcasim/modules/rxe.list
[ -f $LIST ] || { log "no $LIST in this image"; exit 1; }
while read -r m; do
    [ -n "$m" ] || continue
    name=${m##*/}
    name=${name%.ko}
    name=$(echo "$name" | tr - _)
    grep -q "^$name " /proc/modules && continue
    insmod "$m" || { log "insmod $m failed"; exit 1; }
done <$LIST

netdev=""
case ${1:-} in
    --netdev) netdev=${2:?--netdev needs an interface} ;;
    "") ;;
    *) log "usage: hcasim-rxe-up [--netdev IF]"; exit 2 ;;
esac

gid=0
if [ -z "$netdev" ]; then
    echo 0 >/proc/sys/net/ipv6/conf/default/accept_dad 2>/dev/null
    ip link add veth0 type veth peer name veth1 || { log "cannot create veth0/veth1"; exit 1; }
    ip link set veth1 up && ip link set veth0 up || { log "cannot bring veth0/veth1 up"; exit 1; }
    netdev=veth0
else
    [ -e /sys/class/net/"$netdev" ] || { log "no network interface $netdev"; exit 1; }
    gid=1
fi
/usr/bin/rdma link add rxe0 type rxe netdev "$netdev" || { log "rdma link add rxe0 failed"; exit 1; }

# gid_ready: GID 0 is the link-local one; with --netdev, GID 1 the IPv4 one
port=/sys/class/infiniband/rxe0/ports/1
gid_ready() {
    grep -q '^fe80:' $port/gids/0 2>/dev/null || return 1
    [ $gid -eq 0 ] || grep -q '^0000:0000:0000:0000:0000:ffff:' $port/gids/1 2>/dev/null
}
i=0
until grep -q ACTIVE $port/state 2>/dev/null && gid_ready; do
    i=$((i + 1))
    [ $i -le 600 ] || { log "rxe0 port 1 not ACTIVE with GID $gid after 30 s"; exit 1; }
    sleep 0.05
done
log "rxe0 ready on $netdev (port 1 $(cat $port/state), GID $gid $(cat $port/gids/$gid) $(cat $port/gid_attrs/types/$gid))"
