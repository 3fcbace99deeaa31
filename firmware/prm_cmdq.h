// The ConnectX-5 model's command interface transport: one entry of the
// command queue in host memory and its mailbox chains (mlx5 PRM, "Command
// Interface"; as Linux's mlx5_core cmd.c drives it).
//
// An entry (prm::dev::cmd_layout, 64 bytes) carries the command type, the
// input and output lengths, the first 16 bytes of the input and of the
// output inline, and pointers to two chains of mailbox blocks
// (prm::dev::cmd_prot_block: 512 data bytes, a next pointer, a block
// number), each block 1 KiB aligned. The rest of the input and output lie
// in those blocks, 512 bytes each, in block-number order. Signatures and
// tokens are not checked (the driver runs with checksum_disabled).
//
// Every access is DMA through the DmaSpace, bounds-checked. A bad entry
// never runs: it is handed back with a delivery status (status_own bits
// 7:1) and its output untouched. Both chains are walked before the command
// runs, so a command whose output cannot be delivered has no effect.
#pragma once

#include "device/dma_space.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>

namespace hcasim::firmware {

/// Delivery status, status_own bits 7:1 (PRM; Linux cmd.c deliv_status_to_str).
enum class PrmDelivery : std::uint8_t {
    ok = 0x0,
    signature_err = 0x1,
    token_err = 0x2,
    bad_block_number = 0x3,      // a block's block_num is not its place in the chain (also: a loop)
    out_ptr_not_aligned = 0x4,   // an output block pointer is not 1 KiB aligned
    in_ptr_not_aligned = 0x5,    // an input block pointer is not 1 KiB aligned
    fw_internal_err = 0x6,       // here: a block lies outside guest memory
    in_length_err = 0x7,         // inlen < 8 (no opcode/op_mod) or > kPrmMaxMessage
    out_length_err = 0x8,        // outlen < 8 (no status/syndrome) or > kPrmMaxMessage
    reserved_not_zero = 0x9,
    bad_command_type = 0x10,     // type is not MLX5_PCI_CMD_XPORT (7)
};

/// "ok", "bad_block_number", ...
const char* prm_delivery_name(PrmDelivery d);

inline constexpr std::uint8_t kPrmCmdTypePci = 7;        // MLX5_PCI_CMD_XPORT
inline constexpr std::size_t kPrmInlineBytes = 16;       // inline input / output, bytes
inline constexpr std::size_t kPrmMailboxData = 512;      // MLX5_CMD_DATA_BLOCK_SIZE, bytes
inline constexpr std::uint64_t kPrmMailboxAlign = 1024;  // bytes
inline constexpr std::size_t kPrmMaxMessage = 1 << 20;   // bytes of input or output

/// Runs a command: `in` is its whole input (inlen bytes), `out` its output
/// (outlen bytes, zeroed), where the executor writes status, syndrome and the
/// command's output layout.
using PrmExecute = std::function<void(std::span<const std::uint8_t> in, std::span<std::uint8_t> out)>;

struct PrmEntryResult {
    bool handed_back = false;  // false: the entry itself is outside guest memory; nothing was written
    PrmDelivery delivery = PrmDelivery::ok;
    bool executed = false;     // the command ran (delivery ok)
    const char* reason = "";   // what a delivery error found, for the trace
};

/// Runs the command entry at `entry_addr` (the queue's base + slot x stride):
/// gathers the input, runs `exec` (only if both chains are sound), scatters
/// the output, then hands the entry back: status_own = delivery status << 1,
/// owner bit 0, written last.
PrmEntryResult run_prm_cmd_entry(device::DmaSpace& dma, std::uint64_t entry_addr, const PrmExecute& exec);

}  // namespace hcasim::firmware
