// The provider's op table, in one place (as an rdma-core provider's
// verbs_context_ops): the verbs_context ops the inline verbs of
// <infiniband/verbs.h> dispatch through (ops left NULL make those verbs
// fail with EOPNOTSUPP, as rdma-core does for a provider without them),
// and the legacy ibv_context_ops the inline data-path verbs call
// (ibv_post_send, ibv_poll_cq, ...).  The exported verbs (ibv_create_qp,
// ibv_reg_mr, ...) live with their objects.
#include "verbs/provider.h"

#include <cstddef>
#include <cstring>

namespace hcasim::verbs {

namespace {

// The table, with designated initializers in the order of rdma-core's
// struct verbs_context and struct ibv_context_ops (C++20 wants that order).
const verbs_context kOps = {
    // memory
    .free_buf = free_buf,
    .alloc_buf = alloc_buf,
    .reg_mr_ex = reg_mr_ex,
    .dealloc_dmah = dealloc_dmah,
    .alloc_dmah = alloc_dmah,
    // ports
    .query_port = query_port,
    // device memory
    .reg_dm_mr = reg_dm_mr,
    .alloc_dm = alloc_dm,
    .free_dm = free_dm,
    // domains
    .alloc_parent_domain = alloc_parent_domain,
    .dealloc_td = dealloc_td,
    .alloc_td = alloc_td,
    // queues and the device
    .create_cq_ex = create_cq_ex,
    .query_device_ex = query_device_ex,
    .create_qp_ex = create_qp_ex,
    .create_srq_ex = create_srq_ex,
    .sz = sizeof(verbs_context),
    .context = {.ops = {
                    // memory windows: not supported (EOPNOTSUPP)
                    .alloc_mw = alloc_mw,
                    .bind_mw = bind_mw,
                    .dealloc_mw = dealloc_mw,
                    // data path
                    .poll_cq = poll_cq,
                    .req_notify_cq = req_notify_cq,
                    .post_srq_recv = post_srq_recv,
                    .post_send = post_send,
                    .post_recv = post_recv,
                }},
};

}  // namespace

void fill_ops(verbs_context& v) {
    // Every op before the embedded ibv_context (unset ones NULL), then the
    // context's own op table; the context's other fields stay as they are.
    std::memcpy(static_cast<void*>(&v), &kOps, offsetof(verbs_context, context));
    v.context.ops = kOps.context.ops;
}

}  // namespace hcasim::verbs
