// Polling completion queues: ibv_poll_cq and the extended API
// (ibv_start_poll / ibv_next_poll / ibv_end_poll and the ibv_wc_read_*
// accessors, rdma-core ibv_create_cq_ex(3)).
//
// Ownership (abi/hcasim_abi.h): software owns the CQE at ci when
// (owner & 1) == (((ci / entries) & 1) ^ 1).  The owner byte is read
// first, then (after an acquire fence) the body; once CQEs are consumed
// the new ci goes to the doorbell record.  A send CQE completes the SQ up
// to its wqe_counter (unsignaled WQEs before it included), which is what
// frees room for ibv_post_send; a receive CQE on an SRQ puts the WQE it
// names back on the SRQ's free list.
#include "verbs/provider.h"

#include <cerrno>
#include <cstring>

namespace hcasim::verbs {

namespace {

// The qpn of CQEs whose QP was destroyed or reset: consumed silently.
constexpr uint32_t kDeadQpn = 0xffffffffu;

volatile hcasim_cqe* cqe_at(const CqShell* cq, uint32_t n) {
    return reinterpret_cast<volatile hcasim_cqe*>(cq->buf.ptr) + (n & (cq->entries - 1));
}

bool sw_owns(const CqShell* cq, uint32_t n) {
    const uint8_t owner = cqe_at(cq, n)->owner;
    return (owner & 1u) == (((n / cq->entries) & 1u) ^ 1u);
}

QpShell* find_qp(CqShell* cq, uint32_t qpn) {
    if (cq->last_qp && cq->last_qp->qpx.qp_base.qp_num == qpn) return cq->last_qp;
    for (QpShell* qp : cq->qps)
        if (qp->qpx.qp_base.qp_num == qpn) return cq->last_qp = qp;
    return nullptr;
}

// The queue bookkeeping a CQE implies.
void account(CqShell* cq, const hcasim_cqe& e) {
    QpShell* qp = find_qp(cq, e.qpn);
    if (!qp) return;
    WorkQueue* wq = nullptr;
    if (!e.is_recv) wq = &qp->sq;
    else if (qp->ibqp()->srq) srq_free_wqe(to_srq(qp->ibqp()->srq), e.wqe_counter);
    else wq = &qp->rq;
    if (wq) {
        const uint32_t t = wq->tail.load(std::memory_order_relaxed);
        wq->tail.store(advance16(t, e.wqe_counter), std::memory_order_release);
    }
}

// Takes the next CQE into cq->cur (cq->mu held).  false: none.
bool take(CqShell* cq) {
    for (;;) {
        if (!sw_owns(cq, cq->ci)) return false;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        std::memcpy(&cq->cur, const_cast<const hcasim_cqe*>(cqe_at(cq, cq->ci)), sizeof(cq->cur));
        ++cq->ci;
        if (cq->cur.qpn == kDeadQpn) continue;
        account(cq, cq->cur);
        return true;
    }
}

void update_ci(CqShell* cq) { store_le32(&cq->db.va[0], cq->ci); }

unsigned wc_flags(const hcasim_cqe& e) {
    unsigned f = 0;
    if (e.flags & HCASIM_CQE_WITH_IMM) f |= IBV_WC_WITH_IMM;
    if (e.flags & HCASIM_CQE_GRH) f |= IBV_WC_GRH;
    return f;
}

void to_wc(const hcasim_cqe& e, ibv_wc& wc) {
    wc.wr_id = e.wr_id;
    wc.status = static_cast<ibv_wc_status>(e.status);
    wc.opcode = static_cast<ibv_wc_opcode>(e.opcode);
    wc.vendor_err = e.vendor_err;
    wc.byte_len = e.byte_len;
    wc.imm_data = e.imm_data;
    wc.qp_num = e.qpn;
    wc.src_qp = e.src_qp;
    wc.wc_flags = wc_flags(e);
    wc.pkey_index = e.pkey_index;
    wc.slid = e.slid;
    wc.sl = e.sl;
    wc.dlid_path_bits = e.dlid_path_bits;
}

// ---- extended polling ------------------------------------------------------

void set_current(ibv_cq_ex* x, const hcasim_cqe& e) {
    x->status = static_cast<ibv_wc_status>(e.status);
    x->wr_id = e.wr_id;
}

int start_poll(ibv_cq_ex* x, ibv_poll_cq_attr* attr) {
    if (attr && attr->comp_mask) return EINVAL;
    CqShell* cq = to_cq(x);
    cq->mu.lock();
    const uint32_t ci = cq->ci;
    if (!take(cq)) {
        if (cq->ci != ci) update_ci(cq);
        cq->mu.unlock();
        return ENOENT;
    }
    set_current(x, cq->cur);
    return 0;
}

int next_poll(ibv_cq_ex* x) {
    CqShell* cq = to_cq(x);
    if (!take(cq)) return ENOENT;
    set_current(x, cq->cur);
    return 0;
}

void end_poll(ibv_cq_ex* x) {
    CqShell* cq = to_cq(x);
    update_ci(cq);
    cq->mu.unlock();
}

const hcasim_cqe& cur(ibv_cq_ex* x) { return to_cq(x)->cur; }

ibv_wc_opcode read_opcode(ibv_cq_ex* x) { return static_cast<ibv_wc_opcode>(cur(x).opcode); }
uint32_t read_vendor_err(ibv_cq_ex* x) { return cur(x).vendor_err; }
uint32_t read_byte_len(ibv_cq_ex* x) { return cur(x).byte_len; }
__be32 read_imm_data(ibv_cq_ex* x) { return cur(x).imm_data; }
uint32_t read_qp_num(ibv_cq_ex* x) { return cur(x).qpn; }
uint32_t read_src_qp(ibv_cq_ex* x) { return cur(x).src_qp; }
unsigned int read_wc_flags(ibv_cq_ex* x) { return wc_flags(cur(x)); }
uint32_t read_slid(ibv_cq_ex* x) { return cur(x).slid; }
uint8_t read_sl(ibv_cq_ex* x) { return cur(x).sl; }
uint8_t read_dlid_path_bits(ibv_cq_ex* x) { return cur(x).dlid_path_bits; }
uint16_t read_cvlan(ibv_cq_ex*) { return 0; }      // no VLAN stripping
uint32_t read_flow_tag(ibv_cq_ex*) { return 0; }   // no flow steering
void read_tm_info(ibv_cq_ex*, ibv_wc_tm_info* tm) { *tm = {}; }  // no tag matching

}  // namespace

int poll_cq(ibv_cq* ibcq, int n, ibv_wc* wc) {
    CqShell* cq = to_cq(ibcq);
    std::lock_guard lock(cq->mu);
    const uint32_t ci = cq->ci;
    int got = 0;
    while (got < n && take(cq)) to_wc(cq->cur, wc[got++]);
    if (cq->ci != ci) update_ci(cq);
    return got;
}

void set_poll_ops(CqShell* cq, uint64_t f) {
    ibv_cq_ex& x = cq->cq;
    x.start_poll = start_poll;
    x.next_poll = next_poll;
    x.end_poll = end_poll;
    x.read_opcode = read_opcode;
    x.read_vendor_err = read_vendor_err;
    x.read_wc_flags = read_wc_flags;
    if (f & IBV_WC_EX_WITH_BYTE_LEN) x.read_byte_len = read_byte_len;
    if (f & IBV_WC_EX_WITH_IMM) x.read_imm_data = read_imm_data;
    if (f & IBV_WC_EX_WITH_QP_NUM) x.read_qp_num = read_qp_num;
    if (f & IBV_WC_EX_WITH_SRC_QP) x.read_src_qp = read_src_qp;
    if (f & IBV_WC_EX_WITH_SLID) x.read_slid = read_slid;
    if (f & IBV_WC_EX_WITH_SL) x.read_sl = read_sl;
    if (f & IBV_WC_EX_WITH_DLID_PATH_BITS) x.read_dlid_path_bits = read_dlid_path_bits;
    if (f & IBV_WC_EX_WITH_CVLAN) x.read_cvlan = read_cvlan;
    if (f & IBV_WC_EX_WITH_FLOW_TAG) x.read_flow_tag = read_flow_tag;
    if (f & IBV_WC_EX_WITH_TM_INFO) x.read_tm_info = read_tm_info;
}

void cq_clean(CqShell* cq, uint32_t qpn, SrqShell* srq) {
    std::lock_guard lock(cq->mu);
    for (uint32_t n = cq->ci; n - cq->ci < cq->entries && sw_owns(cq, n); ++n) {
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        volatile hcasim_cqe* e = cqe_at(cq, n);
        if (e->qpn != qpn) continue;
        if (srq && e->is_recv) srq_free_wqe(srq, e->wqe_counter);
        e->qpn = kDeadQpn;
    }
}

}  // namespace hcasim::verbs
