// The ConnectX-5 model's command interface transport (see prm_cmdq.h).
#include "firmware/prm_cmdq.h"

#include "prm/prm.h"
#include "prm/prm_layouts.h"

#include <algorithm>
#include <array>
#include <vector>

namespace hcasim::firmware {

using Entry = prm::dev::cmd_layout;
using Block = prm::dev::cmd_prot_block;

const char* prm_delivery_name(PrmDelivery d)
{
    switch (d) {
    case PrmDelivery::ok: return "ok";
    case PrmDelivery::signature_err: return "signature_err";
    case PrmDelivery::token_err: return "token_err";
    case PrmDelivery::bad_block_number: return "bad_block_number";
    case PrmDelivery::out_ptr_not_aligned: return "out_ptr_not_aligned";
    case PrmDelivery::in_ptr_not_aligned: return "in_ptr_not_aligned";
    case PrmDelivery::fw_internal_err: return "fw_internal_err";
    case PrmDelivery::in_length_err: return "in_length_err";
    case PrmDelivery::out_length_err: return "out_length_err";
    case PrmDelivery::reserved_not_zero: return "reserved_not_zero";
    case PrmDelivery::bad_command_type: return "bad_command_type";
    }
    return "unknown";
}

namespace {

constexpr std::size_t kEntryBytes = Entry::kBits / 8;
constexpr std::size_t kBlockBytes = Block::kBits / 8;
static_assert(kEntryBytes == 64 && kBlockBytes == 576);
static_assert(Block::data.count * Block::data.elem_bits / 8 == kPrmMailboxData);

struct Chain {
    std::vector<std::uint64_t> blocks;  // each block's address, in order
    PrmDelivery delivery = PrmDelivery::ok;
    const char* reason = "";
};

// Walks the chain at `first` that carries `len` bytes past the inline part:
// ceil((len - 16) / 512) blocks, each 1 KiB aligned, inside guest memory,
// numbered 0, 1, ... (a loop back meets a wrong number). The walk is bounded
// by the length, never by the chain.
Chain walk_chain(const device::DmaSpace& dma, std::uint64_t first, std::size_t len, PrmDelivery misaligned)
{
    Chain c;
    std::size_t n = len > kPrmInlineBytes ? (len - kPrmInlineBytes + kPrmMailboxData - 1) / kPrmMailboxData : 0;
    std::uint64_t addr = first;
    std::array<std::uint8_t, kBlockBytes> raw;
    for (std::size_t i = 0; i < n; ++i) {
        if (addr % kPrmMailboxAlign) {
            c.delivery = misaligned;
            c.reason = "mailbox block not 1 KiB aligned";
            return c;
        }
        if (dma.read(addr, raw.data(), raw.size())) {
            c.delivery = PrmDelivery::fw_internal_err;
            c.reason = "mailbox block outside guest memory";
            return c;
        }
        auto b = prm::view<Block>(raw).value();
        if (b[Block::block_num] != i) {
            c.delivery = PrmDelivery::bad_block_number;
            c.reason = "mailbox block number out of sequence";
            return c;
        }
        c.blocks.push_back(addr);
        addr = b[Block::next];
    }
    return c;
}

PrmEntryResult hand_back(device::DmaSpace& dma, std::uint64_t entry_addr, PrmDelivery d, const char* reason)
{
    PrmEntryResult r;
    std::uint8_t status_own = static_cast<std::uint8_t>(static_cast<std::uint8_t>(d) << 1);  // owner 0
    r.handed_back = dma.write(entry_addr + Entry::status_own.bit_off / 8, &status_own, 1) == 0;
    r.delivery = d;
    r.reason = reason;
    return r;
}

}  // namespace

PrmEntryResult run_prm_cmd_entry(device::DmaSpace& dma, std::uint64_t entry_addr, const PrmExecute& exec)
{
    std::array<std::uint8_t, kEntryBytes> raw;
    if (dma.read(entry_addr, raw.data(), raw.size()))
        return PrmEntryResult{false, PrmDelivery::fw_internal_err, false, "command entry outside guest memory"};
    auto e = prm::view<Entry>(raw).value();
    if (e[Entry::type] != kPrmCmdTypePci)
        return hand_back(dma, entry_addr, PrmDelivery::bad_command_type, "type is not MLX5_PCI_CMD_XPORT");
    std::uint64_t inlen = e[Entry::inlen], outlen = e[Entry::outlen];
    if (inlen < 8 || inlen > kPrmMaxMessage)
        return hand_back(dma, entry_addr, PrmDelivery::in_length_err, "inlen outside 8..1 MiB");
    if (outlen < 8 || outlen > kPrmMaxMessage)
        return hand_back(dma, entry_addr, PrmDelivery::out_length_err, "outlen outside 8..1 MiB");

    Chain in_chain = walk_chain(dma, e[Entry::in_ptr], inlen, PrmDelivery::in_ptr_not_aligned);
    if (in_chain.delivery != PrmDelivery::ok)
        return hand_back(dma, entry_addr, in_chain.delivery, in_chain.reason);
    Chain out_chain = walk_chain(dma, e[Entry::out_ptr], outlen, PrmDelivery::out_ptr_not_aligned);
    if (out_chain.delivery != PrmDelivery::ok)
        return hand_back(dma, entry_addr, out_chain.delivery, out_chain.reason);

    // Gather: 16 inline bytes, then each block's data.
    std::vector<std::uint8_t> in(inlen);
    auto inline_in = e.bytes(Entry::in);
    std::copy_n(inline_in.begin(), std::min<std::size_t>(inlen, kPrmInlineBytes), in.begin());
    std::size_t done = kPrmInlineBytes;
    const std::uint64_t data_off = Block::data.bit_off / 8;
    for (std::uint64_t block : in_chain.blocks) {
        std::size_t chunk = std::min<std::size_t>(kPrmMailboxData, inlen - done);
        if (dma.read(block + data_off, in.data() + done, chunk))
            return hand_back(dma, entry_addr, PrmDelivery::fw_internal_err, "mailbox block outside guest memory");
        done += chunk;
    }

    std::vector<std::uint8_t> out(outlen);
    exec(in, out);

    // Scatter: the blocks first, the inline 16 bytes, then status_own.
    done = kPrmInlineBytes;
    for (std::uint64_t block : out_chain.blocks) {
        std::size_t chunk = std::min<std::size_t>(kPrmMailboxData, outlen - done);
        if (dma.write(block + data_off, out.data() + done, chunk))
            return hand_back(dma, entry_addr, PrmDelivery::fw_internal_err, "mailbox block outside guest memory");
        done += chunk;
    }
    std::array<std::uint8_t, kPrmInlineBytes> inline_out{};
    std::copy_n(out.begin(), std::min<std::size_t>(outlen, kPrmInlineBytes), inline_out.begin());
    if (dma.write(entry_addr + Entry::out.bit_off / 8, inline_out.data(), inline_out.size()))
        return PrmEntryResult{false, PrmDelivery::fw_internal_err, true, "command entry outside guest memory"};
    PrmEntryResult r = hand_back(dma, entry_addr, PrmDelivery::ok, "");
    r.executed = true;
    return r;
}

}  // namespace hcasim::firmware
