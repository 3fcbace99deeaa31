// The legacy ibv_context_ops that rdma-core's inline data-path verbs call
// without a NULL check (ibv_post_send, ibv_poll_cq, ...).  hcasim has no
// QPs, CQs, SRQs or MWs yet, so no valid object can reach them; should a
// caller pass one anyway they fail with EOPNOTSUPP instead of jumping to
// NULL.  See docs/verbs.md for what is supported.
#include "verbs/provider.h"

#include <cerrno>

namespace hcasim::verbs {

namespace {

int post_send(ibv_qp*, ibv_send_wr* wr, ibv_send_wr** bad) {
    if (bad) *bad = wr;
    return EOPNOTSUPP;
}
int post_recv(ibv_qp*, ibv_recv_wr* wr, ibv_recv_wr** bad) {
    if (bad) *bad = wr;
    return EOPNOTSUPP;
}
int post_srq_recv(ibv_srq*, ibv_recv_wr* wr, ibv_recv_wr** bad) {
    if (bad) *bad = wr;
    return EOPNOTSUPP;
}
int poll_cq(ibv_cq*, int, ibv_wc*) { return -1; }  // rdma-core: negative on error
int req_notify_cq(ibv_cq*, int) { return EOPNOTSUPP; }
ibv_mw* alloc_mw(ibv_pd*, ibv_mw_type) {
    errno = EOPNOTSUPP;
    return nullptr;
}
int bind_mw(ibv_qp*, ibv_mw*, ibv_mw_bind*) { return EOPNOTSUPP; }
int dealloc_mw(ibv_mw*) { return EOPNOTSUPP; }

}  // namespace

void fill_unsupported_ops(ibv_context_ops& ops) {
    ops.post_send = post_send;
    ops.post_recv = post_recv;
    ops.post_srq_recv = post_srq_recv;
    ops.poll_cq = poll_cq;
    ops.req_notify_cq = req_notify_cq;
    ops.alloc_mw = alloc_mw;
    ops.bind_mw = bind_mw;
    ops.dealloc_mw = dealloc_mw;
}

}  // namespace hcasim::verbs
