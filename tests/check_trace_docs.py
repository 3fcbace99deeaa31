#!/usr/bin/env python3
"""The trace catalogue (common/trace_events.h) against its uses and its docs.

- every event of the catalogue is traced somewhere (`trace::<event>(` in
  the device's sources), and nothing traces outside the catalogue;
- docs/device.md's event table is exactly the table the catalogue makes
  (event, section, fields, when), in the catalogue's order.

`--write` rewrites that table from the catalogue.  An empty scan fails."""
import pathlib
import re
import sys

SOURCES = ("common", "device", "firmware", "pcie", "link", "daemon")
EVENT = re.compile(r'EV\((\w+),\s*([\w-]+),\s*((?:"(?:[^"\\]|\\.)*"\s*)+),\s*((?:\(\w, \w+\)\s*)*)\)')
FIELD = re.compile(r"\((\w), (\w+)\)")
CALL = re.compile(r"\btrace::(\w+)\(")
FREE_FORM = re.compile(r'\.event\(\s*"')
SHAPE = {"H": "0x…", "X": "0x…", "U": "…", "I": "…", "S": "…", "F": "…"}
HEADER = "| event | section | fields | when |\n|---|---|---|---|\n"


def catalogue(root: pathlib.Path):
    # One logical line: the macro's continuations and comments gone.
    text = (root / "common" / "trace_events.h").read_text().replace("\\\n", " ")
    text = re.sub(r"/\*.*?\*/", " ", text)
    events = []
    for name, section, when, fields in EVENT.findall(text):
        when = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', when))
        events.append((name, section, when, FIELD.findall(fields)))
    return events


def table(events) -> str:
    rows = []
    for name, section, when, fields in events:
        shown = " ".join("…" if k == "K" else f"{n.rstrip('_')}={SHAPE[k]}" for k, n in fields)
        sec = "datapath (`--trace-datapath`)" if section == "datapath" else section
        rows.append(f"| `{name}` | {sec} | {'`' + shown + '`' if shown else ''} | {when} |\n")
    return HEADER + "".join(rows)


def main(args) -> int:
    write = "--write" in args
    args = [a for a in args if a != "--write"]
    root = pathlib.Path(args[0] if args else ".")
    events = catalogue(root)
    names = {e[0] for e in events}
    called, free = set(), []
    for d in SOURCES:
        for p in (root / d).rglob("*"):
            if p.suffix in (".cpp", ".h") and p.name not in ("trace.h", "trace_events.h"):
                src = p.read_text(errors="replace")
                called |= set(CALL.findall(src))
                if FREE_FORM.search(src):
                    free.append(str(p.relative_to(root)))
    doc_path = root / "docs" / "device.md"
    doc = doc_path.read_text()
    start = doc.index(HEADER)
    end = doc.index("\n\n", start) + 1
    want = table(events)
    if write:
        doc_path.write_text(doc[:start] + want + doc[end:])
        print(f"check_trace_docs: wrote {len(events)} events to docs/device.md")
        return 0
    bad = [f"in the catalogue but never traced: {e}" for e in sorted(names - called)]
    bad += [f"traced but not in the catalogue: {e}" for e in sorted(called - names)]
    bad += [f"free-form trace call (not from the catalogue) in {p}" for p in free]
    if doc[start:end] != want:
        bad.append("docs/device.md's event table differs from the catalogue "
                   "(tests/check_trace_docs.py --write rewrites it)")
    if len(events) < 10 or not called:
        bad.append("empty scan (is the root right?)")
    for line in bad:
        print(line)
    print(f"check_trace_docs: {len(events)} events in the catalogue, {len(called)} traced, {len(bad)} problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
