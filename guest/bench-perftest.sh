# guest/bench-perftest.sh: the guest side of scripts/bench's perftest
# section, run by the guest's sh (sid's dash) as: sh -c "$perf" perf DEVICE
# GID-INDEX.  Prints "perf NAME <the client's result row>" for each
# figure; the clients' whole output follows in "log NAME: ..." lines.
dev=$1 gid=$2
if [ "$dev" = rxe0 ]; then
    # Debian's libibverbs and its rxe provider, not hcasim's
    unset LD_LIBRARY_PATH
    hcasim-rxe-up || exit 1
fi
ibv_devices | grep -q "^ *$dev " || { echo "no $dev in ibv_devices"; exit 1; }
run() {
    name=$1
    shift
    hcasim-pair "$name" "$@" -d "$dev" -x "$gid" || status=1
    sed "s/^/log $name: /" "/tmp/$name.client"
    grep -E '^ *[0-9]+ +[0-9]+ +[0-9.]+ +[0-9.]+' "/tmp/$name.client" | sed "s/^/perf $name /"
}
status=0
run write_bw_1m ib_write_bw -s 1048576 -n 200
run write_bw_64 ib_write_bw -s 64 -n 20000
run write_lat_8 ib_write_lat -s 8 -n 1000
run read_lat_8 ib_read_lat -s 8 -n 1000
run atomic_lat ib_atomic_lat -n 1000
exit $status
