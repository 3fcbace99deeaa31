// prm: the mlx5 PRM's layouts as typed data, and bounds-checked access to a
// PRM structure held in a byte buffer (a command's input or output, a
// capability page, a context).
//
// The layouts themselves (prm/prm_layouts.h, namespace hcasim::prm::ifc) are
// generated at build time from Linux's include/linux/mlx5/mlx5_ifc.h (Debian:
// linux-headers-<abi>-common) by prm/gen_prm.py; every offset there was
// computed by the C compiler on that header. Each `mlx5_ifc_<name>_bits`
// becomes `ifc::<name>`, and device.h's byte-granular structs of the init
// segment, command entry, mailbox block, EQE and CQE (`struct mlx5_<name>`)
// become `dev::<name>` in the same form, with one member per named field:
//   Field<L>          a field of at most 64 bits (wider ones are byte strings)
//   FieldArray<L>     u8 name[count][bits]: count fields of `bits` each
//   Sub<L, M>         a nested layout M
//   Array<L, M>       an array of layout M (count 0: flexible, to the end)
// L is the layout the member belongs to, so using a member on a view of the
// wrong layout does not compile.
//
// Bit numbering is mlx5_ifc.h's (and the PRM's): bit 0 of a layout is the
// most significant bit of its first byte, fields are big-endian, MSB first,
// exactly as MLX5_GET/MLX5_SET read and write them.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>

namespace hcasim::prm {

/// A field of layout L: bit_off bits from the layout's start, `bits` wide.
template <class L>
struct Field {
    std::uint32_t bit_off;
    std::uint32_t bits;
};

/// u8 name[count][elem_bits] of layout L; count 0 is a flexible array.
template <class L>
struct FieldArray {
    std::uint32_t bit_off;
    std::uint32_t elem_bits;
    std::uint32_t count;
};

/// A nested layout M inside layout L, at bit_off.
template <class L, class M>
struct Sub {
    std::uint32_t bit_off;
};

/// An array of layout M inside layout L; count 0 is a flexible array.
template <class L, class M>
struct Array {
    std::uint32_t bit_off;
    std::uint32_t elem_bits;
    std::uint32_t count;
};

/// A field of a layout by name (ifc::<layout>::kFields): for decoding in
/// traces and for tests that walk every field. count is 1 for a plain field,
/// the element count of a field array, 0 for a flexible one.
struct FieldInfo {
    const char* name;
    std::uint32_t bit_off;
    std::uint32_t bits;
    std::uint32_t count;
};

/// A layout by name (kLayouts, in prm_layouts.h): its size and fields.
/// overlaps: a union, or a struct with an anonymous union: some of its
/// members share bits by design.
struct LayoutInfo {
    const char* name;
    std::uint32_t bits;
    bool overlaps;
    const FieldInfo* fields;
    std::size_t field_count;
};

/// One MLX5_CMD_OP_* of mlx5_ifc.h: a command opcode and its PRM name.
struct CmdOpcodeName {
    std::uint16_t opcode;
    const char* name;
};

/// One MLX5_CMD_STAT_* of device.h: a command status and its name.
struct CmdStatusName {
    std::uint8_t status;
    const char* name;
};

/// The name of a command status ("BAD_OP_ERR"), or "" if device.h names none.
std::string_view cmd_status_name(std::uint8_t status);

/// The PRM name of a command opcode ("QUERY_HCA_CAP"), or "" if mlx5_ifc.h
/// names none.
std::string_view cmd_name(std::uint16_t opcode);
/// The opcode of a PRM command name (as cmd_name() gives it, any case), or
/// nullopt.
std::optional<std::uint16_t> cmd_opcode(std::string_view name);

/// Reads `bits` (1..64) bits at bit offset `bit_off` of buf, MSB first.
/// Precondition: the bits lie inside buf (views check this).
std::uint64_t read_bits(std::span<const std::uint8_t> buf, std::uint64_t bit_off, std::uint32_t bits);
/// Writes the low `bits` (1..64) bits of v at bit offset `bit_off` of buf.
/// Precondition: the bits lie inside buf.
void write_bits(std::span<std::uint8_t> buf, std::uint64_t bit_off, std::uint32_t bits, std::uint64_t v);

/// A read-only view of layout L at the start of a byte buffer. A view is only
/// made over a buffer that holds the whole layout (L::kBits / 8 bytes), so
/// every fixed member is in bounds; flexible array elements are checked
/// against the buffer's end.
template <class L, class Byte = const std::uint8_t>
class View {
public:
    using Layout = L;
    static constexpr std::size_t kBytes = L::kBits / 8;

    /// A view of L at the start of buf, or nullopt if buf is shorter than L.
    static std::optional<View> over(std::span<Byte> buf)
    {
        if (buf.size() < kBytes)
            return std::nullopt;
        return View(buf);
    }

    /// The value of a field (at most 64 bits).
    std::uint64_t operator[](Field<L> f) const { return read_bits(buf_, f.bit_off, f.bits); }
    /// Element i of a field array (i < count, or inside the buffer when
    /// flexible); nullopt when out of bounds.
    std::optional<std::uint64_t> at(FieldArray<L> a, std::uint32_t i) const
    {
        std::uint64_t off = a.bit_off + std::uint64_t(i) * a.elem_bits;
        if ((a.count && i >= a.count) || off + a.elem_bits > buf_.size() * 8)
            return std::nullopt;
        return read_bits(buf_, off, a.elem_bits);
    }
    /// The bytes of a byte-aligned field (a MAC, a GID, a name, a 64-bit
    /// address as bytes). Precondition: f starts and ends on a byte.
    std::span<Byte> bytes(Field<L> f) const { return buf_.subspan(f.bit_off / 8, f.bits / 8); }
    /// The bytes of a whole fixed-size, byte-aligned field array (a mailbox
    /// block's data, an entry's inline input).
    std::span<Byte> bytes(FieldArray<L> a) const
    {
        return buf_.subspan(a.bit_off / 8, std::size_t(a.elem_bits) * a.count / 8);
    }
    /// The nested layout.
    template <class M>
    View<M, Byte> operator[](Sub<L, M> s) const
    {
        return View<M, Byte>(buf_.subspan(s.bit_off / 8));
    }
    /// Element i of a layout array; nullopt when out of bounds.
    template <class M>
    std::optional<View<M, Byte>> at(Array<L, M> a, std::uint32_t i) const
    {
        std::uint64_t off = (a.bit_off + std::uint64_t(i) * a.elem_bits) / 8;
        if ((a.count && i >= a.count) || off + a.elem_bits / 8 > buf_.size())
            return std::nullopt;
        return View<M, Byte>(buf_.subspan(off));
    }
    /// How many whole elements of a flexible array the buffer holds.
    template <class M>
    std::size_t available(Array<L, M> a) const
    {
        std::size_t start = a.bit_off / 8, elem = a.elem_bits / 8;
        std::size_t n = buf_.size() > start ? (buf_.size() - start) / elem : 0;
        return a.count ? std::min<std::size_t>(n, a.count) : n;
    }
    /// How many whole elements of a field array the buffer holds.
    std::size_t available(FieldArray<L> a) const
    {
        std::uint64_t bits = buf_.size() * 8, n = bits > a.bit_off ? (bits - a.bit_off) / a.elem_bits : 0;
        return a.count ? std::min<std::uint64_t>(n, a.count) : n;
    }
    /// The whole buffer from the layout's start (the layout and anything after
    /// it, e.g. a flexible array's elements).
    std::span<Byte> raw() const { return buf_; }

    /// Writes a field (mutable views only).
    void set(Field<L> f, std::uint64_t v) const
        requires(!std::is_const_v<Byte>)
    {
        write_bits(buf_, f.bit_off, f.bits, v);
    }
    /// Writes element i of a field array; false when out of bounds.
    bool set(FieldArray<L> a, std::uint32_t i, std::uint64_t v) const
        requires(!std::is_const_v<Byte>)
    {
        std::uint64_t off = a.bit_off + std::uint64_t(i) * a.elem_bits;
        if ((a.count && i >= a.count) || off + a.elem_bits > buf_.size() * 8)
            return false;
        write_bits(buf_, off, a.elem_bits, v);
        return true;
    }

private:
    template <class, class>
    friend class View;
    explicit View(std::span<Byte> buf) : buf_(buf) {}
    std::span<Byte> buf_;
};

/// A writable view (a command's output, a capability page being built).
template <class L>
using MutView = View<L, std::uint8_t>;

/// A view over buf, or nullopt if buf is shorter than L.
template <class L>
std::optional<View<L>> view(std::span<const std::uint8_t> buf)
{
    return View<L>::over(buf);
}
template <class L>
std::optional<MutView<L>> mut_view(std::span<std::uint8_t> buf)
{
    return MutView<L>::over(buf);
}

}  // namespace hcasim::prm
