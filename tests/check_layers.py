#!/usr/bin/env python3
"""The build's layer check: every quoted #include of a source file names a
folder its layer may use (README.md, "Layout"; docs/design.md).  A
violation prints the file, the line and the folder it reached, and the
test fails.  An empty scan fails too."""
import pathlib
import re
import sys

# Each layer and the folders its sources may include from (itself too).
ALLOWED = {
    "common": {"common"},
    "abi": {"abi"},
    "prm": {"prm"},
    "vfio_user": {"vfio_user", "common"},
    "device": {"device", "common", "abi", "prm"},
    "firmware": {"firmware", "device", "common", "abi", "prm"},
    "pcie": {"pcie", "firmware", "device", "vfio_user", "common", "abi", "prm"},
    "link": {"link", "device", "common"},
    "daemon": {"daemon", "pcie", "link", "firmware", "device", "vfio_user", "common", "abi", "prm"},
    "verbs": {"verbs", "vfio_user", "common", "abi"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"/]+)/')


def main(root: pathlib.Path) -> int:
    bad, seen = [], {}
    for layer, allowed in ALLOWED.items():
        files = [p for p in sorted((root / layer).rglob("*")) if p.suffix in (".h", ".c", ".cpp")]
        seen[layer] = len(files)
        for path in files:
            for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
                m = INCLUDE.match(line)
                if m and m.group(1) in ALLOWED and m.group(1) not in allowed:
                    bad.append(f"{path.relative_to(root)}:{n}: layer {layer} includes {m.group(1)}/ "
                               f"(allowed: {', '.join(sorted(allowed))})")
    for layer, count in seen.items():
        if count == 0:
            bad.append(f"{layer}/: no source files found (is the root right?)")
    for line in bad:
        print(line)
    print(f"check_layers: {sum(seen.values())} files in {len(seen)} layers, {len(bad)} problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")))
