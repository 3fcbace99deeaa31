#!/usr/bin/env python3
"""Generate hcasim's PRM layouts from Linux's include/linux/mlx5/mlx5_ifc.h
(and the few structs of linux/mlx5/device.h the device needs: init segment,
command entry, mailbox block, EQE, CQE).

mlx5_ifc.h (Debian: linux-headers-<abi>-common) is the PRM in machine-readable
form: every command, context and capability layout is a
`struct mlx5_ifc_<name>_bits` of `u8 field[bits]` members, one u8 per bit, so
offsetof() of a member is its bit offset and sizeof() its width in bits.
Nobody copies an offset by hand: the build runs three steps.

  gen_prm.py probe  IFC_H OUT.c     a C program that includes the header and
                                    prints, for every member of every layout,
                                    offsetof() and sizeof() as the compiler
                                    computes them (one TSV line per member)
  (the build compiles and runs it)  -> layouts.tsv
  gen_prm.py header IFC_H TSV OUT.h the C++ layouts (prm/prm.h's Field, Sub,
                                    Array, FieldArray per member) and the
                                    command opcode table (MLX5_CMD_OP_*)

This script only finds the names and shapes of members (a small parser of the
header's regular struct grammar); every number in the output comes from the
C compiler or from the header's own enum values.
"""
import os
import re
import sys

# C++ words a member may not be named (see cpp_name()).
CPP_KEYWORDS = set("""
alignas alignof and and_eq asm auto bitand bitor bool break case catch char
char8_t char16_t char32_t class compl concept const consteval constexpr
constinit const_cast continue co_await co_return co_yield decltype default
delete do double dynamic_cast else enum explicit export extern false float for
friend goto if inline int long mutable namespace new noexcept not not_eq
nullptr operator or or_eq private protected public register reinterpret_cast
requires return short signed sizeof static static_assert static_cast struct
switch template this thread_local throw true try typedef typeid typename union
unsigned using virtual void volatile wchar_t while xor xor_eq
""".split())


def strip_source(text):
    """The header without comments and preprocessor lines."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    return "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#"))


def layout_name(c_name):
    """mlx5_ifc_<name>_bits (or, for a few, mlx5_ifc_<name>) -> <name>."""
    m = re.fullmatch(r"(?:mlx5_ifc_)?(\w+?)(?:_bits)?", c_name)
    if not m or not c_name.startswith("mlx5_ifc_"):
        raise SystemExit(f"gen_prm: unexpected type name {c_name}")
    return m.group(1)


def dev_name(c_name):
    """A device.h struct's layout name: dev::<name without mlx5_>."""
    return "dev::" + (c_name[5:] if c_name.startswith("mlx5_") else c_name)


# The structs of device.h (C structs of big-endian bytes, not u8-per-bit
# layouts) that the device needs: the init segment, the command queue entry
# and mailbox block, the EQE and the CQE.
KERNEL_ROOTS = ["mlx5_init_seg", "mlx5_cmd_layout", "mlx5_cmd_prot_block", "mlx5_eqe",
                "mlx5_cqe64", "mlx5_err_cqe"]


# Enumerators with literal values, as constants: (header, prefix, C++
# namespace under hcasim::prm, what they are).
CONSTANTS = [
    ("mlx5_ifc.h", "MLX5_CMD_OP_", "op", "command opcodes"),
    ("device.h", "MLX5_CMD_STAT_", "stat", "command status (output byte 0)"),
    ("device.h", "MLX5_CAP_", "cap", "capability types (QUERY_HCA_CAP op_mod >> 1) and values"),
    ("device.h", "MLX5_EVENT_TYPE_", "event", "EQE types"),
    ("driver.h", "MLX5_REG_", "reg", "ACCESS_REG register ids"),
    ("mlx5_ifc.h", "MLX5_EQC_ST_", "eqc_st", "EQ arming states (eqc.st)"),
    ("mlx5_ifc.h", "MLX5_SQC_STATE_", "sq_state", "SQ states (sqc.state)"),
    ("mlx5_ifc.h", "MLX5_RQC_STATE_", "rq_state", "RQ states (rqc.state)"),
    ("mlx5_ifc.h", "MLX5_WQ_TYPE_", "wq_type", "work queue types (wq.wq_type)"),
    ("mlx5_ifc.h", "MLX5_MKC_ACCESS_MODE_", "mkey_access", "mkey access modes (mkc.access_mode)"),
    ("mlx5_ifc.h", "MLX5_TIRC_DISP_TYPE_", "tir_disp", "TIR dispatch types (tirc.disp_type)"),
    ("mlx5_ifc.h", "MLX5_MODIFY_RQ_IN_MODIFY_BITMASK_", "rq_modify", "MODIFY_RQ modify_bitmask bits"),
    ("mlx5_ifc.h", "MLX5_FLOW_TABLE_TYPE_", "ft_type", "flow table types (table_type)"),
    ("mlx5_ifc.h", "MLX5_FLOW_CONTEXT_ACTION_", "flow_action", "FTE actions (flow_context.action)"),
    ("mlx5_ifc.h", "MLX5_IFC_FLOW_DESTINATION_TYPE_", "flow_dest", "FTE destination types"),
]


def enumerators(text, prefix):
    """(name without prefix, value) of each enumerator PREFIX<NAME> whose value
    C gives it from literals: `= 0x1c`, `= 12`, `= 1ULL << 3`, or none (the
    previous + 1).
    First one of each name; enumerators with other expressions are left out
    (and so are the implicit ones after them)."""
    seen, out = set(), []
    for body in re.findall(r"\benum\b[^{;]*\{(.*?)\}", strip_source(text), re.S):
        value = -1
        for item in body.split(","):
            item = item.strip()
            if not item:
                continue
            m = re.fullmatch(r"(\w+)\s*(?:=\s*(.+))?", item, re.S)
            if not m:
                value = None
                continue
            name, expr = m.group(1), m.group(2)
            if expr is None:
                value = None if value is None else value + 1
            elif re.fullmatch(r"0[xX][0-9a-fA-F]+|\d+", expr.strip()):
                value = int(expr.strip(), 0)
            elif shift := re.fullmatch(r"\(?\s*1\s*[uU]?[lL]{0,2}\s*<<\s*(\d+)\s*\)?", expr.strip()):
                value = 1 << int(shift.group(1))
            else:
                value = None
            if value is None or not name.startswith(prefix):
                continue
            short = name[len(prefix):]
            if short not in seen and short not in ("MAX", "NUM"):
                seen.add(short)
                out.append((short, value))
    return out


class Member:
    """One member of a layout, as the C source names it."""

    def __init__(self, name, path, kind, type_name=None, dims=0, flex=False):
        self.name = name          # the C++ name
        self.path = path          # the offsetof() designator, e.g. "op_param.x"
        self.kind = kind          # "bits" (u8 array) or "layout" (struct/union)
        self.type_name = type_name
        self.dims = dims          # array dimensions after the first (u8) / count dims (layout)
        self.flex = flex          # flexible array ([] or [0])


class Layout:
    def __init__(self, name, c_type, is_union, dev=False):
        self.name = name
        self.overlaps = is_union  # a union, or a struct with an anonymous union
        self.dev = dev            # a device.h struct: byte-granular C types
        self.c_type = c_type      # "struct mlx5_ifc_x_bits", or None for an inline one
        self.members = []
        self.parent = None        # (outer Layout, member path) for inline layouts


def tokenize(body):
    return re.findall(r"[A-Za-z_]\w*|0[xX][0-9a-fA-F]+|\d+|[{}\[\];,()]|\S", body)


class Parser:
    """Parses the struct/union bodies of mlx5_ifc.h."""

    def __init__(self):
        self.layouts = {}
        self.order = []

    def add(self, layout):
        if layout.name in self.layouts:
            raise SystemExit(f"gen_prm: layout {layout.name} defined twice")
        self.layouts[layout.name] = layout
        self.order.append(layout)

    def parse_file(self, text):
        src = strip_source(text)
        for m in re.finditer(r"\b(struct|union)\s+mlx5_ifc_(\w+)\s*\{", src):
            body, _ = self.block(src, m.end())
            layout = Layout(layout_name("mlx5_ifc_" + m.group(2)), f"{m.group(1)} mlx5_ifc_{m.group(2)}",
                            m.group(1) == "union")
            self.add(layout)
            self.members(layout, tokenize(body), prefix="")

    def parse_kernel(self, text, roots):
        """The structs of device.h named in roots, and the structs and
        unions they contain, as layouts "dev::<name without mlx5_>"."""
        src = re.sub(r"\b__packed\b|\b__aligned\s*\([^)]*\)", " ", strip_source(text))
        defs = {}
        for m in re.finditer(r"\b(struct|union)\s+(\w+)\s*\{", src):
            body, _ = self.block(src, m.end())
            defs[m.group(2)] = (m.group(1), body)
        done = set()

        def visit(c_name):
            if c_name in done:
                return dev_name(c_name)
            done.add(c_name)
            if c_name not in defs:
                raise SystemExit(f"gen_prm: device.h defines no struct/union {c_name}")
            kind, body = defs[c_name]
            layout = Layout(dev_name(c_name), f"{kind} {c_name}", kind == "union", dev=True)
            self.add(layout)
            self.kernel_members(layout, tokenize(body), "", visit)
            return layout.name

        for r in roots:
            visit(r)

    def kernel_members(self, layout, toks, prefix, visit):
        i = 0
        while i < len(toks):
            t = toks[i]
            if t in ("u8", "u16", "u32", "u64", "__be16", "__be32", "__be64"):
                name = toks[i + 1]
                j = i + 2
                if toks[j] == ":":  # a C bit-field: offsetof() cannot name it
                    i = toks.index(";", j) + 1
                    continue
                dims = 0
                while toks[j] == "[":
                    j = toks.index("]", j) + 1
                    dims += 1
                assert toks[j] == ";", (layout.name, toks[i:j + 1])
                if not name.startswith(("rsvd", "reserved")):
                    layout.members.append(Member(name, prefix + name, "bits", dims=dims))
                i = j + 1
            elif t in ("struct", "union") and toks[i + 1] == "{":
                i = self.inline(layout, toks, i, prefix,
                                lambda lay, inner, pre: self.kernel_members(lay, inner, pre, visit))
            elif t in ("struct", "union"):
                type_name = visit(toks[i + 1])
                name = toks[i + 2]
                j = i + 3
                dims = 0
                while toks[j] == "[":
                    j = toks.index("]", j) + 1
                    dims += 1
                assert toks[j] == ";", (layout.name, toks[i:j + 1])
                layout.members.append(Member(name, prefix + name, "layout", type_name, dims=dims))
                i = j + 1
            elif t == ";":
                i += 1
            else:
                raise SystemExit(f"gen_prm: cannot parse '{' '.join(toks[i:i + 6])}' in {layout.name}")

    def inline(self, layout, toks, i, prefix, parse_members):
        """An inline struct/union at toks[i]: anonymous (its members belong to
        the outer layout, and may overlap if it is a union) or named (a layout
        of its own, <outer>_<name>). Returns the index after it."""
        kind = toks[i]
        depth, j = 1, i + 2
        while depth:
            depth += toks[j] == "{"
            depth -= toks[j] == "}"
            j += 1
        inner = toks[i + 2:j - 1]
        if toks[j] == ";":
            layout.overlaps |= kind == "union"
            parse_members(layout, inner, prefix)
            return j + 1
        name = toks[j]
        assert toks[j + 1] == ";", (layout.name, name)
        sub = Layout(f"{layout.name}_{name}", None, kind == "union", dev=layout.dev)
        sub.parent = (layout, prefix + name)
        self.add(sub)
        parse_members(sub, inner, "")
        layout.members.append(Member(name, prefix + name, "layout", sub.name))
        return j + 2

    @staticmethod
    def block(src, start):
        depth, i = 1, start
        while depth:
            c = src[i]
            depth += c == "{"
            depth -= c == "}"
            i += 1
        return src[start:i - 1], i

    def members(self, layout, toks, prefix):
        i = 0
        while i < len(toks):
            t = toks[i]
            if t == "u8":
                name = toks[i + 1]
                j = i + 2
                dims = []
                while toks[j] == "[":
                    k = toks.index("]", j)
                    dims.append(toks[j + 1:k])
                    j = k + 1
                assert toks[j] == ";", (layout.name, toks[i:j + 1])
                if not name.startswith("reserved"):
                    flex = dims[0] in ([], ["0"])
                    layout.members.append(Member(name, prefix + name, "bits", dims=len(dims) - 1,
                                                 flex=flex))
                i = j + 1
            elif t == "DECLARE_FLEX_ARRAY":
                # DECLARE_FLEX_ARRAY ( struct mlx5_ifc_x_bits , name ) ;
                j = toks.index(")", i)
                inner = toks[i + 2:j]
                type_name = layout_name(inner[1])
                name = inner[-1]
                layout.members.append(Member(name, prefix + name, "layout", type_name, flex=True))
                i = j + 2
            elif t in ("struct", "union"):
                if toks[i + 1] == "{":
                    i = self.inline(layout, toks, i, prefix, self.members)
                else:
                    type_name = layout_name(toks[i + 1])
                    name = toks[i + 2]
                    j = i + 3
                    count_dims, flex = 0, False
                    while toks[j] == "[":
                        k = toks.index("]", j)
                        dim = toks[j + 1:k]
                        flex = flex or dim in ([], ["0"])
                        count_dims += 1
                        j = k + 1
                    assert toks[j] == ";", (layout.name, toks[i:j + 1])
                    layout.members.append(Member(name, prefix + name, "layout", type_name,
                                                 dims=count_dims, flex=flex))
                    i = j + 1
            elif t == ";":
                i += 1
            else:
                raise SystemExit(f"gen_prm: cannot parse '{' '.join(toks[i:i + 6])}' in {layout.name}")


def parse(ifc_path):
    p = Parser()
    text = open(ifc_path).read()
    fpga = re.search(r'#include\s+"(mlx5_ifc_fpga\.h)"', text)
    if fpga:
        p.parse_file(open(ifc_path.rsplit("/", 1)[0] + "/" + fpga.group(1)).read())
    p.parse_file(text)
    p.parse_kernel(open(ifc_path.rsplit("/", 1)[0] + "/device.h").read(), KERNEL_ROOTS)
    return p, text


def c_root(layout):
    """(outermost C type, designator prefix) of a layout."""
    prefix = ""
    while layout.parent:
        outer, path = layout.parent
        prefix = path + "." + prefix
        layout = outer
    return layout.c_type, prefix


PROBE_HEAD = r"""/* Generated by prm/gen_prm.py: prints the bit offset and size of every
 * member of every layout of mlx5_ifc.h, as the C compiler lays them out. */
#include <stdio.h>
#include "prm/linux_mlx5_c.h"

#define SIZE(T, M) sizeof(((T *)0)->M)
int main(void)
{
"""


def write_probe(p, out):
    lines = [PROBE_HEAD]
    for lay in p.order:
        c_type, pre = c_root(lay)
        k = "8 * " if lay.dev else ""  # device.h structs count bytes
        if lay.parent is None:
            lines.append(f'    printf("L\\t{lay.name}\\t%zu\\n", {k}sizeof({c_type}));\n')
        else:
            lines.append(f'    printf("L\\t{lay.name}\\t%zu\\n", {k}SIZE({c_type}, {pre[:-1]}));\n')
        for m in lay.members:
            d = pre + m.path
            off = f"{k}offsetof({c_type}, {d})"
            if lay.dev:
                elem = f"SIZE({c_type}, {d}[0])" if m.dims else f"SIZE({c_type}, {d})"
                total = f"SIZE({c_type}, {d})"
                kind = "B" if m.kind == "bits" else ("A" if m.dims else "S")
                ty = "" if m.kind == "bits" else f"\\t{m.type_name}"
                lines.append(f'    printf("{kind}\\t{lay.name}\\t{m.name}\\t%zu\\t%zu\\t%zu{ty}\\n", '
                             f"{off}, (size_t)(8 * {total}), (size_t)(8 * {elem}));\n")
            elif m.kind == "bits":
                # u8 name[bits] or u8 name[count][bits]
                if m.dims:
                    elem = f"SIZE({c_type}, {d}[0])"
                else:
                    elem = "1" if m.flex else f"SIZE({c_type}, {d})"
                total = "0" if m.flex else f"SIZE({c_type}, {d})"
                lines.append(f'    printf("B\\t{lay.name}\\t{m.name}\\t%zu\\t%zu\\t%zu\\n", '
                             f"{off}, (size_t){total}, (size_t){elem});\n")
            else:
                elem = f"SIZE({c_type}, {d}[0])" if (m.dims or m.flex) else f"SIZE({c_type}, {d})"
                total = "0" if m.flex else f"SIZE({c_type}, {d})"
                kind = "A" if (m.dims or m.flex) else "S"
                lines.append(f'    printf("{kind}\\t{lay.name}\\t{m.name}\\t%zu\\t%zu\\t%zu\\t{m.type_name}\\n", '
                             f"{off}, (size_t){total}, (size_t){elem});\n")
    lines.append("    return 0;\n}\n")
    open(out, "w").write("".join(lines))


def cpp_name(name, layout):
    """A member's C++ name: its C name, with '_' appended when it is a C++
    keyword or the name of its own layout (a class cannot have a member named
    like itself); '_' prepended when it starts with a digit."""
    if name[0].isdigit():  # MLX5_CMD_OP_2ERR_QP -> op::_2ERR_QP
        return "_" + name
    return name + "_" if name in CPP_KEYWORDS or name == layout else name


def write_header(p, text, tsv, out, ifc_path):
    rows = [l.rstrip("\n").split("\t") for l in open(tsv)]
    sizes = {r[1]: int(r[2]) for r in rows if r[0] == "L"}
    members = {}
    for r in rows:
        if r[0] != "L":
            members.setdefault(r[1], []).append(r)
    ops = [(val, name) for name, val in enumerators(text, "MLX5_CMD_OP_")]
    # scripts/setup notes the package the header came from in .deps/prm/SOURCE.
    source = os.path.join(os.path.dirname(ifc_path), "..", "..", "..", "SOURCE")
    source = open(source).read().strip() if os.path.exists(source) else ifc_path.rsplit("/include/", 1)[0]
    def qual(name):
        return "::hcasim::prm::" + (name if name.startswith("dev::") else "ifc::" + name)

    def short(name):
        return name.split("::")[-1]

    o = []
    o.append(f"// Generated by prm/gen_prm.py from mlx5_ifc.h and device.h of {source}.\n")
    o.append("// Every offset and size here was computed by the C compiler on those headers.\n")
    o.append("// namespace ifc: mlx5_ifc.h's mlx5_ifc_<name>_bits; namespace dev: device.h's\n")
    o.append("// struct mlx5_<name> (byte-granular, big-endian; offsets here still in bits).\n")
    o.append("#pragma once\n#include <iterator>\n\n#include \"prm/prm.h\"\n\n")
    for ns, in_ns in (("ifc", lambda l: not l.dev), ("dev", lambda l: l.dev)):
        lays = [l for l in p.order if in_ns(l)]
        o.append(f"namespace hcasim::prm::{ns} {{\n\n")
        for lay in lays:
            o.append(f"struct {short(lay.name)};\n")
        o.append("\n")
        for lay in lays:
            o.append(f"struct {short(lay.name)} {{\n")
            o.append(f"    static constexpr const char* kName = \"{lay.name}\";\n")
            o.append(f"    static constexpr std::uint32_t kBits = {sizes[lay.name]};\n")
            me = qual(lay.name)
            for r in members.get(lay.name, []):
                kind, name, off, total, elem = (r[0], cpp_name(r[2], short(lay.name)), int(r[3]), int(r[4]),
                                                int(r[5]))
                if kind == "B":
                    if total == elem:
                        o.append(f"    static constexpr Field<{me}> {name}{{{off}, {elem}}};\n")
                    else:
                        count = total // elem if elem else 0
                        o.append(f"    static constexpr FieldArray<{me}> {name}{{{off}, {elem}, {count}}};\n")
                    continue
                if off % 8 or elem % 8:
                    raise SystemExit(f"gen_prm: {lay.name}.{name} is a layout not on a byte boundary")
                if kind == "S":
                    o.append(f"    static constexpr Sub<{me}, {qual(r[6])}> {name}{{{off}}};\n")
                else:
                    count = total // elem if elem else 0
                    o.append(f"    static constexpr Array<{me}, {qual(r[6])}> {name}{{{off}, {elem}, {count}}};\n")
            infos = []
            for r in members.get(lay.name, []):
                if r[0] == "B":
                    total, elem = int(r[4]), int(r[5])
                    count = 1 if total == elem else (total // elem if elem else 0)
                    infos.append(f"        {{\"{r[2]}\", {r[3]}, {elem}, {count}}},\n")
            if infos:
                o.append("    // Its fields (not nested layouts), for decoding and tests.\n")
                o.append("    static constexpr FieldInfo kFields[] = {\n" + "".join(infos) + "    };\n")
            o.append("};\n\n")
        o.append(f"}}  // namespace hcasim::prm::{ns}\n\n")
    o.append("namespace hcasim::prm {\n\n")
    o.append("// Every layout, with its fields, in the headers' order.\n")
    o.append("inline constexpr LayoutInfo kLayouts[] = {\n")
    for lay in p.order:
        has = any(r[0] == "B" for r in members.get(lay.name, []))
        q = qual(lay.name)
        fields = f"{q}::kFields, std::size({q}::kFields)" if has else "nullptr, 0"
        union = "true" if lay.overlaps else "false"
        o.append(f"    {{\"{lay.name}\", {q}::kBits, {union}, {fields}}},\n")
    o.append("};\n\n")
    inc = os.path.dirname(ifc_path)
    for header, prefix, ns, what in CONSTANTS:
        o.append(f"// {prefix}* of {header}: {what}.\n")
        o.append(f"namespace {ns} {{\n")
        for name, val in enumerators(open(os.path.join(inc, header)).read(), prefix):
            o.append(f"inline constexpr std::uint32_t {cpp_name(name, ns)} = 0x{val:x};\n")
        o.append(f"}}  // namespace {ns}\n\n")
    o.append("// MLX5_CMD_STAT_* of device.h: command status names.\n")
    o.append("inline constexpr CmdStatusName kCmdStatus[] = {\n")
    for name, val in enumerators(open(os.path.join(inc, "device.h")).read(), "MLX5_CMD_STAT_"):
        o.append(f"    {{0x{val:x}, \"{name}\"}},\n")
    o.append("};\n\n")
    o.append("// MLX5_CMD_OP_* of mlx5_ifc.h: command opcodes and their PRM names.\n")
    o.append("inline constexpr CmdOpcodeName kCmdOpcodes[] = {\n")
    for val, name in sorted(ops):
        o.append(f"    {{0x{val:x}, \"{name}\"}},\n")
    o.append("};\n\n}  // namespace hcasim::prm\n")
    open(out, "w").write("".join(o))


def main(argv):
    if len(argv) == 4 and argv[1] == "probe":
        p, _ = parse(argv[2])
        write_probe(p, argv[3])
    elif len(argv) == 5 and argv[1] == "header":
        p, text = parse(argv[2])
        write_header(p, text, argv[3], argv[4], argv[2])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
