#!/usr/bin/env bash
# scripts/run-fabric's command line: a bad --mtu (or any bad option) is
# refused with exit status 2 and a message naming it, before a switch or a
# guest starts; --help documents --mtu.
#
#   run-fabric-args.sh SRC
set -uo pipefail
src=${1:?source dir}
fabric=$src/scripts/run-fabric
failed=0
# refuses EXPECTED-MESSAGE-REGEXP ARGS...: exit 2, the message on stderr
refuses() {
    local want=$1 out status
    shift
    out=$("$fabric" "$@" 2>&1 >/dev/null)
    status=$?
    if [[ $status -eq 2 && $out =~ $want ]]; then
        echo "ok: run-fabric $* -> 2: $out"
    else
        echo "FAIL: run-fabric $*: status $status (want 2), stderr '$out' (want /$want/)"
        failed=1
    fi
}
refuses "--mtu takes 576..9000 bytes, not '575'" --mtu 575
refuses "--mtu takes 576..9000 bytes, not '9001'" --mtu 9001
refuses "--mtu takes 576..9000 bytes, not '1500x'" --mtu 1500x
refuses "--mtu takes 576..9000 bytes, not ''" --mtu=
refuses "--mtu needs a value" --mtu
refuses "unknown argument '--jumbo'" --jumbo
if "$fabric" --help | grep -q -- '--mtu BYTES'; then
    echo "ok: --help documents --mtu"
else
    echo "FAIL: --help does not document --mtu"
    failed=1
fi
[[ $failed -eq 0 ]] && echo "run-fabric arguments: passed"
exit $failed
