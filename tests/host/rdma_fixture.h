// Shared helpers for host-direct data-path tests: queue pairs on one
// context of a live hcasim-device, connected to each other through the
// device's loopback port (RoCE v2 GID index 1), registered buffers, and
// polling with a deadline.
#pragma once

#include "tests/host/verbs_fixture.h"

#include <cstdint>
#include <string>
#include <vector>

namespace hcasim::test {

constexpr int kAllAccess = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
                           IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_ATOMIC;

struct QpCaps {
    uint32_t send_wr = 64, recv_wr = 64, send_sge = 4, recv_sge = 4, inline_data = 0;
};

// ibv_create_qp with these caps (nullptr on failure, errno kept).
ibv_qp* create_qp(ibv_pd* pd, ibv_cq* send_cq, ibv_cq* recv_cq, ibv_qp_type type,
                  const QpCaps& caps = {}, ibv_srq* srq = nullptr, bool sig_all = false);

struct ConnectAttr {
    ibv_mtu mtu = IBV_MTU_1024;
    uint8_t timeout = 14, retry_cnt = 7, rnr_retry = 7, min_rnr_timer = 12;
    uint8_t max_rd_atomic = 1, max_dest_rd_atomic = 1;
    unsigned access = IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_ATOMIC;
    uint32_t sq_psn = 0, rq_psn = 0;
    const ibv_gid* dgid = nullptr;  // the peer's GID; null: our own port's GID 1 (loopback)
};

// The port's RoCE v2 GID (index 1): an AH attribute pointing at ourselves.
ibv_ah_attr self_ah_attr(ibv_context* ctx);
// RESET -> INIT -> RTR -> RTS, RC/UC towards remote_qpn on our own port.
// Returns 0 or the first errno.
int connect_qp(ibv_qp* qp, uint32_t remote_qpn, const ConnectAttr& a = {});
// Both QPs exist; connects a to b and b to a (REQUIREd).
void connect_pair(ibv_qp* a, ibv_qp* b, const ConnectAttr& attr = {});
// RESET -> INIT -> RTR -> RTS for a UD QP.
int ud_ready(ibv_qp* qp, uint32_t qkey);

// Up to n completions within the deadline (fewer on timeout).
std::vector<ibv_wc> poll_cq(ibv_cq* cq, size_t n, int timeout_ms = 10000);
// The same through the extended API (start/next/end_poll): wr_id, status,
// opcode, byte_len, imm_data, qp_num, src_qp, wc_flags.
std::vector<ibv_wc> poll_cq_ex(ibv_cq_ex* cq, size_t n, int timeout_ms = 10000);
// Polls once more after a short wait: nothing must be there.
bool cq_empty(ibv_cq* cq, int wait_ms = 50);

// A registered host buffer.
struct Buffer {
    Buffer(ibv_pd* pd, size_t len, int access = kAllAccess, uint8_t fill = 0);
    ~Buffer();
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;
    uint64_t addr(size_t off = 0) const { return reinterpret_cast<uintptr_t>(data.data() + off); }
    ibv_sge sge(size_t off, uint32_t len) const { return {addr(off), len, mr->lkey}; }
    std::vector<uint8_t> data;
    ibv_mr* mr = nullptr;
};

// One SEND/WRITE/READ work request, posted alone (imm_data in network
// order for the *_WITH_IMM opcodes).  0 or errno.
int post_one(ibv_qp* qp, ibv_wr_opcode op, std::vector<ibv_sge> sges, uint64_t wr_id,
             unsigned flags = IBV_SEND_SIGNALED, uint64_t remote_addr = 0, uint32_t rkey = 0,
             uint32_t imm_data = 0);
int post_recv_one(ibv_qp* qp, std::vector<ibv_sge> sges, uint64_t wr_id);
int post_srq_one(ibv_srq* srq, ibv_sge sge, uint64_t wr_id);

// One context, one CQ per side and two connected QPs (a -> b, b -> a).
struct RcPair : VerbsFixture {
    explicit RcPair(ibv_qp_type type = IBV_QPT_RC, QpCaps caps = {}, ConnectAttr attr = {},
                    std::vector<std::string> device_args = {});
    ~RcPair();
    ibv_cq* cq_a = nullptr;
    ibv_cq* cq_b = nullptr;
    ibv_qp* a = nullptr;
    ibv_qp* b = nullptr;
};

// One context, an SRQ, one CQ, a sender s and a receiver r on the SRQ,
// connected.
struct SrqPair : VerbsFixture {
    explicit SrqPair(uint32_t max_wr);
    ~SrqPair();
    ibv_srq* srq = nullptr;
    ibv_cq* cq = nullptr;
    ibv_qp* s = nullptr;
    ibv_qp* r = nullptr;
};

std::string status_str(const ibv_wc& wc);

}  // namespace hcasim::test
