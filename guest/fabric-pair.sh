#!/bin/sh
# guest/fabric-pair.sh: installed as /usr/local/bin/hcasim-fabric-pair in the
# pyverbs guest.  One side of a server/client pair of ibverbs-utils or
# perftest between two guests on one wire (scripts/run-fabric):
#
#   hcasim-fabric-pair server NAME TOOL [ARG...]
#   hcasim-fabric-pair client NAME SERVER-ADDR TOOL [ARG...]
#
# The two guests meet in $HCASIM_FABRIC_DIR, a host directory both of them
# mount (run-fabric shares it).  The server runs `TOOL ARG...`, waits until
# a socket listens on TCP port 18515 (the tools' exchange of QPN/PSN/GID;
# read from /proc/net/tcp, so no guess at how long it takes) and says so
# with the file NAME.T.listening; the client waits for that file, then runs
# `TOOL ARG... SERVER-ADDR`.  Each side leaves its output and exit status
# there (NAME.T.server.out, NAME.T.server.status, and .client.*) and
# waits for the other's status.  T is the try: perftest calibrates its
# cycle counter against gettimeofday, and a vCPU preempted on the host
# meanwhile fails that ("Correlation coefficient r^2: ... < 0.9"); both
# sides see the same files, so both decide alike to run the pair again (3
# tries at most).
#
# Prints the tool's output (indented) and
#   fabric-pair NAME ROLE: status S, peer status P, tries T
# and exits with S.  Each wait and each tool run is bounded by
# HCASIM_PAIR_TIMEOUT seconds (default 120), which only a hang reaches.
usage() {
    echo "usage: hcasim-fabric-pair server NAME TOOL [ARG...]" >&2
    echo "       hcasim-fabric-pair client NAME SERVER-ADDR TOOL [ARG...]" >&2
    exit 2
}
[ $# -ge 3 ] || usage
role=$1 name=$2
shift 2
case $role in
    server) peer=client ;;
    client) peer=server; addr=$1; shift; [ $# -ge 1 ] || usage ;;
    *) usage ;;
esac
dir=${HCASIM_FABRIC_DIR:?HCASIM_FABRIC_DIR: the directory both guests share}
tmo=${HCASIM_PAIR_TIMEOUT:-120}

# listening: does a socket listen (state 0A) on port 18515 (0x4853)?
listening() {
    cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
        awk '$2 ~ /:4853$/ && $4 == "0A" { f = 1 } END { exit !f }'
}

# wait_file PATH: wait for PATH to appear (at most $tmo s); 1 if it did not.
wait_file() {
    n=0
    until [ -e "$1" ]; do
        n=$((n + 1))
        [ $n -le $((tmo * 20)) ] || return 1
        sleep 0.05
    done
}

# publish FILE TEXT: write TEXT to FILE in one rename (the peer polls it).
publish() {
    printf '%s\n' "$2" >"$1.tmp" && mv "$1.tmp" "$1"
}

try=1
while :; do
    base=$dir/$name.$try
    out=/tmp/$name.$role
    status=0
    if [ $role = server ]; then
        timeout "$tmo" "$@" >"$out" 2>&1 &
        pid=$!
        while ! listening; do
            kill -0 $pid 2>/dev/null || break # it died: the client will fail fast
            sleep 0.05
        done
        publish "$base.listening" yes
        wait $pid || status=$?
    elif wait_file "$base.listening"; then
        timeout "$tmo" "$@" "$addr" >"$out" 2>&1 || status=$?
    else
        echo "the server never listened ($tmo s)" >"$out"
        status=124
    fi
    cp "$out" "$base.$role.out"
    publish "$base.$role.status" $status
    peer_status=124
    if wait_file "$base.$peer.status"; then
        read -r peer_status <"$base.$peer.status"
    fi
    echo "--- $name $role (try $try)"
    sed 's/^/    /' "$out"
    [ $try -lt 3 ] && cat "$base".*.out 2>/dev/null | grep -q 'Correlation coefficient r^2' || break
    try=$((try + 1))
done
echo "fabric-pair $name $role: status $status, peer status $peer_status, tries $try"
exit $status
