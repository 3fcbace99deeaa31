// BTH opcode table (see opcodes.h).
#include "device/opcodes.h"

#include <array>

namespace hcasim::device {

namespace {

constexpr uint32_t kSendOp = kRequest | kSend | kHasPayload;
constexpr uint32_t kWriteOp = kRequest | kWrite | kHasPayload;
constexpr uint32_t kReadResp = kResponse | kRead | kHasPayload;

constexpr uint8_t len(uint32_t f) {
    return static_cast<uint8_t>(kBthLen + ((f & kHasReth) ? kRethLen : 0) +
                                ((f & kHasImm) ? kImmLen : 0) + ((f & kHasAeth) ? kAethLen : 0) +
                                ((f & kHasAtomicEth) ? kAtomicEthLen : 0) +
                                ((f & kHasAtomicAckEth) ? kAtomicAckEthLen : 0) +
                                ((f & kHasDeth) ? kDethLen : 0));
}
constexpr OpInfo op(const char* name, uint32_t f) { return OpInfo{name, f, len(f)}; }

constexpr std::array<OpInfo, 256> build() {
    std::array<OpInfo, 256> t{};
    // RC: everything; UC: sends and writes.
    for (uint8_t base : {bth::kRc, bth::kUc}) {
        const bool rc = base == bth::kRc;
        t[base | bth::kSendFirst] = op(rc ? "RC_SEND_FIRST" : "UC_SEND_FIRST", kSendOp | kFirst);
        t[base | bth::kSendMiddle] = op(rc ? "RC_SEND_MIDDLE" : "UC_SEND_MIDDLE", kSendOp | kMiddle);
        t[base | bth::kSendLast] = op(rc ? "RC_SEND_LAST" : "UC_SEND_LAST", kSendOp | kLast);
        t[base | bth::kSendLastImm] =
            op(rc ? "RC_SEND_LAST_WITH_IMMEDIATE" : "UC_SEND_LAST_WITH_IMMEDIATE", kSendOp | kLast | kHasImm);
        t[base | bth::kSendOnly] = op(rc ? "RC_SEND_ONLY" : "UC_SEND_ONLY", kSendOp | kFirst | kLast);
        t[base | bth::kSendOnlyImm] = op(rc ? "RC_SEND_ONLY_WITH_IMMEDIATE" : "UC_SEND_ONLY_WITH_IMMEDIATE",
                                         kSendOp | kFirst | kLast | kHasImm);
        t[base | bth::kWriteFirst] = op(rc ? "RC_RDMA_WRITE_FIRST" : "UC_RDMA_WRITE_FIRST",
                                        kWriteOp | kFirst | kHasReth);
        t[base | bth::kWriteMiddle] = op(rc ? "RC_RDMA_WRITE_MIDDLE" : "UC_RDMA_WRITE_MIDDLE", kWriteOp | kMiddle);
        t[base | bth::kWriteLast] = op(rc ? "RC_RDMA_WRITE_LAST" : "UC_RDMA_WRITE_LAST", kWriteOp | kLast);
        t[base | bth::kWriteLastImm] = op(rc ? "RC_RDMA_WRITE_LAST_WITH_IMMEDIATE" : "UC_RDMA_WRITE_LAST_WITH_IMMEDIATE",
                                          kWriteOp | kLast | kHasImm);
        t[base | bth::kWriteOnly] = op(rc ? "RC_RDMA_WRITE_ONLY" : "UC_RDMA_WRITE_ONLY",
                                       kWriteOp | kFirst | kLast | kHasReth);
        t[base | bth::kWriteOnlyImm] = op(rc ? "RC_RDMA_WRITE_ONLY_WITH_IMMEDIATE" : "UC_RDMA_WRITE_ONLY_WITH_IMMEDIATE",
                                          kWriteOp | kFirst | kLast | kHasReth | kHasImm);
    }
    t[bth::kReadRequest] = op("RC_RDMA_READ_REQUEST", kRequest | kRead | kFirst | kLast | kHasReth);
    t[bth::kReadRespFirst] = op("RC_RDMA_READ_RESPONSE_FIRST", kReadResp | kFirst | kHasAeth);
    t[bth::kReadRespMiddle] = op("RC_RDMA_READ_RESPONSE_MIDDLE", kReadResp | kMiddle);
    t[bth::kReadRespLast] = op("RC_RDMA_READ_RESPONSE_LAST", kReadResp | kLast | kHasAeth);
    t[bth::kReadRespOnly] = op("RC_RDMA_READ_RESPONSE_ONLY", kReadResp | kFirst | kLast | kHasAeth);
    t[bth::kAck] = op("RC_ACKNOWLEDGE", kResponse | kAckOp | kFirst | kLast | kHasAeth);
    t[bth::kAtomicAck] = op("RC_ATOMIC_ACKNOWLEDGE",
                            kResponse | kAtomic | kFirst | kLast | kHasAeth | kHasAtomicAckEth);
    t[bth::kCompareSwap] = op("RC_COMPARE_SWAP", kRequest | kAtomic | kFirst | kLast | kHasAtomicEth);
    t[bth::kFetchAdd] = op("RC_FETCH_ADD", kRequest | kAtomic | kFirst | kLast | kHasAtomicEth);
    t[bth::kUd | bth::kSendOnly] = op("UD_SEND_ONLY", kSendOp | kFirst | kLast | kHasDeth);
    t[bth::kUd | bth::kSendOnlyImm] =
        op("UD_SEND_ONLY_WITH_IMMEDIATE", kSendOp | kFirst | kLast | kHasDeth | kHasImm);
    return t;
}

constexpr std::array<OpInfo, 256> kTable = build();

}  // namespace

const OpInfo& op_info(uint8_t opcode) { return kTable[opcode]; }

}  // namespace hcasim::device
