// Memory windows: not implemented.  The legacy ibv_context_ops call them
// without a NULL check (ibv_alloc_mw, ibv_bind_mw, ibv_dealloc_mw), so they
// fail as rdma-core reports an unsupported operation.  See docs/verbs.md.
#include "verbs/provider.h"

#include <cerrno>

namespace hcasim::verbs {

ibv_mw* alloc_mw(ibv_pd*, ibv_mw_type) {
    errno = EOPNOTSUPP;
    return nullptr;
}

int bind_mw(ibv_qp*, ibv_mw*, ibv_mw_bind*) { return EOPNOTSUPP; }

int dealloc_mw(ibv_mw*) { return EOPNOTSUPP; }

}  // namespace hcasim::verbs
