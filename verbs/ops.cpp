// The provider's op table, in one place (as an rdma-core provider's
// verbs_context_ops): the verbs_context ops the inline verbs of
// <infiniband/verbs.h> dispatch through (ops left NULL make those verbs
// fail with EOPNOTSUPP, as rdma-core does for a provider without them),
// and the legacy ibv_context_ops the inline data-path verbs call
// (ibv_post_send, ibv_poll_cq, ...).  The exported verbs (ibv_create_qp,
// ibv_reg_mr, ...) live with their objects.
#include "verbs/provider.h"

namespace hcasim::verbs {

void fill_ops(verbs_context& v) {
    v.sz = sizeof(verbs_context);
    // devices and ports
    v.query_device_ex = query_device_ex;
    v.query_port = query_port;
    // memory
    v.alloc_dm = alloc_dm;
    v.free_dm = free_dm;
    v.reg_dm_mr = reg_dm_mr;
    v.reg_mr_ex = reg_mr_ex;
    v.alloc_dmah = alloc_dmah;
    v.dealloc_dmah = dealloc_dmah;
    v.alloc_buf = alloc_buf;
    v.free_buf = free_buf;
    // domains
    v.alloc_td = alloc_td;
    v.dealloc_td = dealloc_td;
    v.alloc_parent_domain = alloc_parent_domain;
    // queues
    v.create_cq_ex = create_cq_ex;
    v.create_qp_ex = create_qp_ex;
    v.create_srq_ex = create_srq_ex;
    // data path
    ibv_context_ops& ops = v.context.ops;
    ops.post_send = post_send;
    ops.post_recv = post_recv;
    ops.post_srq_recv = post_srq_recv;
    ops.poll_cq = poll_cq;
    ops.req_notify_cq = req_notify_cq;
    // memory windows: not supported (EOPNOTSUPP)
    ops.alloc_mw = alloc_mw;
    ops.bind_mw = bind_mw;
    ops.dealloc_mw = dealloc_mw;
}

}  // namespace hcasim::verbs
