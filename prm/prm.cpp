// prm: bit access in PRM structures and the command opcode names of
// mlx5_ifc.h (see prm.h).
#include "prm/prm.h"

#include <cassert>
#include <cctype>

#include "prm/prm_layouts.h"

namespace hcasim::prm {

std::string_view cmd_name(std::uint16_t opcode)
{
    const auto* end = std::end(kCmdOpcodes);
    const auto* it = std::lower_bound(std::begin(kCmdOpcodes), end, opcode,
                                      [](const CmdOpcodeName& c, std::uint16_t op) { return c.opcode < op; });
    return it != end && it->opcode == opcode ? it->name : "";
}

std::string_view cmd_status_name(std::uint8_t status)
{
    for (const auto& c : kCmdStatus)
        if (c.status == status)
            return c.name;
    return "";
}

std::optional<std::uint16_t> cmd_opcode(std::string_view name)
{
    for (const auto& c : kCmdOpcodes) {
        std::string_view n = c.name;
        if (n.size() == name.size() &&
            std::equal(n.begin(), n.end(), name.begin(),
                       [](char a, char b) { return a == std::toupper(static_cast<unsigned char>(b)); }))
            return c.opcode;
    }
    return std::nullopt;
}

// A field of at most 64 bits spans at most 9 bytes; gather them into a
// 128-bit accumulator, MSB first, and shift the field down.
std::uint64_t read_bits(std::span<const std::uint8_t> buf, std::uint64_t bit_off, std::uint32_t bits)
{
    assert(bits >= 1 && bits <= 64 && bit_off + bits <= buf.size() * 8);
    std::uint64_t first = bit_off / 8, last = (bit_off + bits - 1) / 8;
    unsigned __int128 acc = 0;
    for (std::uint64_t b = first; b <= last; ++b)
        acc = (acc << 8) | buf[b];
    acc >>= (last + 1) * 8 - (bit_off + bits);
    return static_cast<std::uint64_t>(acc) & (bits == 64 ? ~0ull : (1ull << bits) - 1);
}

void write_bits(std::span<std::uint8_t> buf, std::uint64_t bit_off, std::uint32_t bits, std::uint64_t v)
{
    assert(bits >= 1 && bits <= 64 && bit_off + bits <= buf.size() * 8);
    std::uint64_t first = bit_off / 8, last = (bit_off + bits - 1) / 8;
    unsigned shift = (last + 1) * 8 - (bit_off + bits);
    unsigned __int128 mask = (bits == 64 ? ~static_cast<unsigned __int128>(0) >> 64 : (static_cast<unsigned __int128>(1) << bits) - 1);
    unsigned __int128 acc = 0;
    for (std::uint64_t b = first; b <= last; ++b)
        acc = (acc << 8) | buf[b];
    acc = (acc & ~(mask << shift)) | ((static_cast<unsigned __int128>(v) & mask) << shift);
    for (std::uint64_t b = last + 1; b-- > first;) {
        buf[b] = static_cast<std::uint8_t>(acc);
        acc >>= 8;
    }
}

}  // namespace hcasim::prm
