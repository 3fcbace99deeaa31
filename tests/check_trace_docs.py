#!/usr/bin/env python3
"""docs/device.md's trace event table lists exactly the events the device
traces: every `.event("name", ...)` in the device's sources has a row, and
every row names an event the sources trace.  An empty scan fails."""
import pathlib
import re
import sys

SOURCES = ("common", "device", "firmware", "pcie", "link", "daemon")
CALL = re.compile(r'\.event\(\s*"([a-z0-9_]+)"')
ROW = re.compile(r"^\| `([a-z0-9_]+)` \|", re.M)


def main(root: pathlib.Path) -> int:
    traced = set()
    for d in SOURCES:
        for p in (root / d).rglob("*"):
            if p.suffix in (".cpp", ".h"):
                traced |= set(CALL.findall(p.read_text(errors="replace")))
    doc = (root / "docs" / "device.md").read_text()
    section = doc[doc.index("## Tracing and fault injection"):]
    documented = set(ROW.findall(section))
    bad = [f"traced but not in docs/device.md: {e}" for e in sorted(traced - documented)]
    bad += [f"in docs/device.md but never traced: {e}" for e in sorted(documented - traced)]
    if not traced or not documented:
        bad.append("empty scan (is the root right?)")
    for line in bad:
        print(line)
    print(f"check_trace_docs: {len(traced)} events traced, {len(documented)} documented, {len(bad)} problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")))
