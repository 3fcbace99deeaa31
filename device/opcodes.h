// The BTH opcode table: for every RC, UC and UD opcode, which extension
// headers follow the BTH, whether it carries payload, where it sits in a
// message (first/middle/last/only), and what kind of operation it is.
// The engine's requester, responder and completer read it instead of
// switching on opcodes.
//
// Source: IBTA vol 1 9.2 (BTH), 9.3 (extension headers), table 38
// (opcodes); the kernel's rxe_opcode.c has the same shape.
#pragma once

#include <cstdint>

namespace hcasim::device {

namespace bth {
// RC opcodes (UC = 0x20 | op, UD = 0x60 | op).
inline constexpr uint8_t kSendFirst = 0x00, kSendMiddle = 0x01, kSendLast = 0x02,
                         kSendLastImm = 0x03, kSendOnly = 0x04, kSendOnlyImm = 0x05,
                         kWriteFirst = 0x06, kWriteMiddle = 0x07, kWriteLast = 0x08,
                         kWriteLastImm = 0x09, kWriteOnly = 0x0a, kWriteOnlyImm = 0x0b,
                         kReadRequest = 0x0c, kReadRespFirst = 0x0d, kReadRespMiddle = 0x0e,
                         kReadRespLast = 0x0f, kReadRespOnly = 0x10, kAck = 0x11,
                         kAtomicAck = 0x12, kCompareSwap = 0x13, kFetchAdd = 0x14;
inline constexpr uint8_t kRc = 0x00, kUc = 0x20, kUd = 0x60;
}  // namespace bth

// Header and role flags.
enum OpFlags : uint32_t {
    kHasReth = 1u << 0,     // RDMA extended header (16 B)
    kHasImm = 1u << 1,      // immediate data (4 B)
    kHasAeth = 1u << 2,     // ACK extended header (4 B)
    kHasAtomicEth = 1u << 3,     // atomic extended header (28 B)
    kHasAtomicAckEth = 1u << 4,  // atomic ACK extended header (8 B)
    kHasDeth = 1u << 5,     // datagram extended header (8 B)
    kHasPayload = 1u << 6,
    kFirst = 1u << 7,
    kMiddle = 1u << 8,
    kLast = 1u << 9,        // ONLY = kFirst | kLast
    kRequest = 1u << 10,    // handled by the responder
    kResponse = 1u << 11,   // handled by the completer
    kSend = 1u << 12,
    kWrite = 1u << 13,
    kRead = 1u << 14,
    kAtomic = 1u << 15,
    kAckOp = 1u << 16,      // ACK / NAK
};

struct OpInfo {
    const char* name;      // nullptr: not a valid opcode
    uint32_t flags;        // OpFlags
    uint8_t hdr_len;       // BTH + extension headers, bytes
};

// Table entry for an opcode; info.name == nullptr when unknown.
const OpInfo& op_info(uint8_t opcode);

inline constexpr uint32_t kBthLen = 12, kRethLen = 16, kImmLen = 4, kAethLen = 4,
                          kAtomicEthLen = 28, kAtomicAckEthLen = 8, kDethLen = 8, kGrhLen = 40;

// AETH syndromes (IBTA 9.7.5.1 table 44).
namespace aeth {
inline constexpr uint8_t kAck = 0x1f;              // ACK, no credit limit
inline constexpr uint8_t kRnrNak = 0x20;           // | 5-bit timer
inline constexpr uint8_t kNakPsnSeq = 0x60;
inline constexpr uint8_t kNakInvalidRequest = 0x61;
inline constexpr uint8_t kNakRemoteAccess = 0x62;
inline constexpr uint8_t kNakRemoteOp = 0x63;
inline constexpr uint8_t kTypeMask = 0xe0;
inline constexpr uint8_t kTypeAck = 0x00, kTypeRnr = 0x20, kTypeNak = 0x60;
}  // namespace aeth

// PSN arithmetic modulo 2^24 (IBTA 9.7.1): a - b as a signed distance.
inline int32_t psn_diff(uint32_t a, uint32_t b) {
    return static_cast<int32_t>((a - b) << 8) >> 8;
}
inline uint32_t psn_add(uint32_t a, uint32_t n) { return (a + n) & 0xffffffu; }

}  // namespace hcasim::device
