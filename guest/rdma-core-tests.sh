#!/bin/sh
# guest/rdma-core-tests.sh: installed as /usr/local/bin/rdma-core-tests in the
# pyverbs guest (guest/mkinitramfs --flavour pyverbs). Runs rdma-core's own
# python tests (python3-pyverbs 65's suite, gunzipped into
# /opt/rdma-core-tests by scripts/setup) against the hcasim HCA:
#
#   rdma-core-tests [RUN_TESTS_ARGS...]     e.g. -v -k DMTest
#                                           --list-tests
#
# What it adds to a plain "python3 run_tests.py":
#   - --dev hcasim0, unless the arguments name a --dev;
#   - multiprocessing's "fork" start method: Python 3.14 defaults to
#     forkserver, under which the suite's multi-process tests (e.g.
#     DMTest.test_multi_process_alloc_dm) fail to pickle their targets;
#   - run_tests.py by its absolute path: it finds its package through
#     __file__, and a relative path breaks that (os.listdir('')).
# The exit status is run_tests.py's (unittest: 0 all passed, 1 otherwise).
# hcasim's libraries come first through LD_LIBRARY_PATH=/usr/lib/hcasim,
# which guest/init sets.
TESTS=/opt/rdma-core-tests

[ -f "$TESTS/run_tests.py" ] || { echo "rdma-core-tests: no $TESTS/run_tests.py" >&2; exit 125; }
dev=""
for a in "$@"; do
    case $a in
        --dev | --dev=*) dev=given ;;
    esac
done
[ -n "$dev" ] || set -- --dev hcasim0 "$@"
cd "$TESTS" || exit 125
exec python3 -c '
import multiprocessing, os, runpy, sys
multiprocessing.set_start_method("fork")
script = sys.argv[1]
sys.path.insert(0, os.path.dirname(script))
sys.argv = ["run_tests.py"] + sys.argv[2:]
runpy.run_path(script, run_name="__main__")
' "$TESTS/run_tests.py" "$@"
