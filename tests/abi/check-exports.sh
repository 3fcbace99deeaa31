#!/usr/bin/env bash
# ABI check: every versioned symbol in tests/abi/pyverbs-65.symbols (what
# python3-pyverbs 65 links BIND_NOW) is defined, at that version, by
# hcasim's libibverbs/libmlx5/librdmacm/libefa in the build directory.
set -euo pipefail
src=${1:?source dir}
build=${2:?build dir}
have=$(mktemp)
trap 'rm -f "$have"' EXIT
for lib in libibverbs.so.1 libmlx5.so.1 librdmacm.so.1 libefa.so.1; do
    readelf --dyn-syms -W "$build/verbs/$lib" |
        awk '$7 != "UND" && $8 ~ /@/ { sub(/@@?/, "\t", $8); print $8 }'
done | sort -u >"$have"
missing=$(grep -v '^#' "$src/tests/abi/pyverbs-65.symbols" | sort | comm -23 - "$have")
total=$(grep -vc '^#' "$src/tests/abi/pyverbs-65.symbols")
if [ -n "$missing" ]; then
    echo "missing versioned symbols:"
    echo "$missing"
    exit 1
fi
echo "all $total versioned symbols pyverbs 65 needs are defined"
