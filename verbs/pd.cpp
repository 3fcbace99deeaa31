// Protection domains: ibv_alloc_pd / ibv_dealloc_pd (rdma-core
// ibv_alloc_pd(3)), through the firmware's ALLOC_PD / DEALLOC_PD.
// ibv_dealloc_pd also frees parent domains (domains.cpp).  A PD used by a
// parent domain -> EBUSY (mlx5 refcount); a PD with MRs -> EBUSY (device).
#include "verbs/provider.h"

#include <cerrno>
#include <new>

namespace hcasim::verbs {
int dealloc_parent_domain(PdShell* pd);
}

using namespace hcasim::verbs;

HCASIM_EXPORT ibv_pd* ibv_alloc_pd(ibv_context* context) {
    hcasim_alloc_pd_in in{};
    hcasim_alloc_pd_out out{};
    if (int e = impl(context).cmd->run(in, out)) {
        errno = e;
        return nullptr;
    }
    auto* pd = new (std::nothrow) PdShell();
    if (!pd) {
        hcasim_dealloc_pd_in din{};
        din.pdn = out.pdn;
        hcasim_dealloc_pd_out dout{};
        impl(context).cmd->run(din, dout);
        errno = ENOMEM;
        return nullptr;
    }
    pd->pd.context = context;
    pd->pd.handle = out.pdn;
    pd->pdn = out.pdn;
    pd->refcount = 1;
    return &pd->pd;
}

HCASIM_EXPORT int ibv_dealloc_pd(ibv_pd* ibpd) {
    PdShell* pd = to_pd(ibpd);
    if (pd->is_parent) return dealloc_parent_domain(pd);
    if (pd->refcount.load() > 1) return EBUSY;  // parent domains use it
    hcasim_dealloc_pd_in in{};
    in.pdn = pd->pdn;
    hcasim_dealloc_pd_out out{};
    if (int e = impl(ibpd->context).cmd->run(in, out)) return e;
    delete pd;
    return 0;
}
