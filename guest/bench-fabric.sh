# guest/bench-fabric.sh: the guest side of scripts/bench's fabric
# section, run by both guests (sid's dash) after "only_1m=0" (every figure)
# or "only_1m=1" (the 1 MiB trials): guest a serves, guest b is the client
# and prints "perf NAME <its result row>" (run-fabric prefixes "b| ").
status=0
run() {
    name=$1
    shift
    if [ "$HCASIM_FABRIC_SELF" = a ]; then
        hcasim-fabric-pair server "$name" "$@" -d "$HCASIM_FABRIC_DEV" -x "$HCASIM_FABRIC_GID" >/dev/null || status=1
    else
        hcasim-fabric-pair client "$name" "$HCASIM_FABRIC_PEER" "$@" -d "$HCASIM_FABRIC_DEV" \
            -x "$HCASIM_FABRIC_GID" >"/tmp/$name.pair" || status=1
        sed "s/^/log $name: /" "/tmp/$name.pair"
        grep -E '^ *[0-9]+ +[0-9]+ +[0-9.]+ +[0-9.]+' "/tmp/$name.client" | sed "s/^/perf $name /"
    fi
}
# 1 MiB: three trials (the bench reports their median): one 200 MiB run
# lasts about a second for hcasim, and its figure moves with where the
# host puts the two devices, the switch and the guest's polling vCPU.
for t in 1 2 3; do run write_bw_1m_$t ib_write_bw -s 1048576 -n 200; done
if [ "$only_1m" = 0 ]; then
    run write_bw_64 ib_write_bw -s 64 -n 20000
    run write_lat_8 ib_write_lat -s 8 -n 1000
fi
exit $status
