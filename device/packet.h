// The engine's unit of work: one RoCE packet as headers plus a payload
// reference.  Between QPs of one HCA (loopback) the payload points
// straight at the source memory, so a message moves with one memcpy from
// source to destination; a wire backend serialises the same struct.
//
// Source: IBTA vol 1 9.2-9.3 (BTH and extension headers), Annex A17
// (RoCEv2: the GRH fields travel in the IP header).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace hcasim::device {

using Gid = std::array<uint8_t, 16>;

struct Packet {
    // BTH
    uint8_t opcode = 0;
    bool se = false;         // solicited event
    bool ack_req = false;
    uint8_t pad = 0;         // pad count (wire only)
    uint16_t pkey = 0xffff;
    uint32_t dest_qp = 0;    // 24 bits
    uint32_t psn = 0;        // 24 bits
    // Network (GRH / IP) fields
    Gid sgid{};
    Gid dgid{};
    uint8_t traffic_class = 0;
    uint8_t hop_limit = 64;
    uint32_t flow_label = 0;
    // RETH
    uint64_t va = 0;
    uint32_t rkey = 0;
    uint32_t dma_len = 0;
    // ImmDt (network order, as posted)
    uint32_t imm = 0;
    // AETH
    uint8_t syndrome = 0;
    uint32_t msn = 0;
    // AtomicETH (va and rkey above)
    uint64_t swap_add = 0;
    uint64_t compare = 0;
    // AtomicAckETH
    uint64_t orig = 0;
    // DETH
    uint32_t qkey = 0;
    uint32_t src_qp = 0;
    // Payload: `len` bytes at `data`, which points at guest memory, device
    // memory, or `owned` when the payload had to be gathered.
    const uint8_t* data = nullptr;
    uint32_t len = 0;
    std::vector<uint8_t> owned;
};

}  // namespace hcasim::device
