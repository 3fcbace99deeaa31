#!/bin/sh
# guest/pair.sh: installed as /usr/local/bin/hcasim-pair in the pyverbs
# guest (guest/mkinitramfs --flavour pyverbs).  Runs a server/client tool
# pair of ibverbs-utils or perftest as two processes on one device:
#
#   hcasim-pair NAME TOOL [ARG...]
#
# starts `TOOL ARG...` (the server) in the background, waits until a socket
# listens on TCP port 18515 (the tools' exchange of QPN/PSN/GID; read from
# /proc/net/tcp{,6}, so no guess at how long the server takes), then runs
# `TOOL ARG... 127.0.0.1` (the client) and waits for both.  Their output
# goes to /tmp/NAME.server and /tmp/NAME.client; it prints
#   pair NAME: server status S, client status C, tries T
# and exits 0 when both exited 0.  Each side runs under `timeout`
# (HCASIM_PAIR_TIMEOUT seconds, default 120), which only a hang reaches.
#
# perftest converts cycles to time with a CPU clock it calibrates against
# gettimeofday when it reports; a vCPU preempted on the host during that
# calibration fails it ("Correlation coefficient r^2: ... < 0.9", no report,
# status 1).  Such a run says nothing about the device: it is run again,
# 3 tries at most.
[ $# -ge 2 ] || { echo "usage: hcasim-pair NAME TOOL [ARG...]" >&2; exit 2; }
name=$1
shift
tmo=${HCASIM_PAIR_TIMEOUT:-120}
srv=/tmp/$name.server
cli=/tmp/$name.client

# listening: does a socket listen (state 0A) on port 18515 (0x4853)?
listening() {
    cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
        awk '$2 ~ /:4853$/ && $4 == "0A" { f = 1 } END { exit !f }'
}

try=1
while :; do
    timeout "$tmo" "$@" >"$srv" 2>&1 &
    spid=$!
    while ! listening; do
        kill -0 $spid 2>/dev/null || break
        sleep 0.05
    done
    cstatus=0
    timeout "$tmo" "$@" 127.0.0.1 >"$cli" 2>&1 || cstatus=$?
    sstatus=0
    wait $spid || sstatus=$?
    grep -q 'Correlation coefficient r^2' "$srv" "$cli" && [ $try -lt 3 ] || break
    try=$((try + 1))
done
echo "pair $name: server status $sstatus, client status $cstatus, tries $try"
[ $sstatus -eq 0 ] && [ $cstatus -eq 0 ]
