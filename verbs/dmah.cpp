// DMA handles: ibv_alloc_dmah / ibv_dealloc_dmah (rdma-core
// ibv_alloc_dmah(3); mlx5_alloc_dmah and the kernel's checks):
//  - comp_mask bits outside CPU_ID | PH | TPH_MEM_TYPE -> EOPNOTSUPP;
//  - PH missing -> EINVAL; ph > 3 -> EINVAL;
//  - only one of CPU_ID / TPH_MEM_TYPE -> EINVAL; mem type unknown -> EINVAL;
//  - cpu_id not a CPU of this system -> EINVAL; outside the caller's
//    affinity -> EPERM;
//  - device without TPH -> EOPNOTSUPP;
//  - dealloc while an MR uses it -> EBUSY.
// The driver side of TPH: the firmware picks the ST table index and the
// platform's steering tag; the library writes the tag into the function's
// ST table and enables the TPH Requester (PCIe §7.9.13).
#include "verbs/provider.h"

#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <new>

namespace hcasim::verbs {

namespace {

constexpr uint32_t kTphCap = 0x100;  // pcie/hca_function.h: kTph
constexpr uint32_t kTphCtrl = kTphCap + 8;
constexpr uint32_t kTphStTable = kTphCap + 12;

int check_cpu(uint32_t cpu) {
    const long n = ::sysconf(_SC_NPROCESSORS_CONF);
    if (n <= 0 || cpu >= static_cast<unsigned long>(n)) return EINVAL;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof(set), &set) != 0) return errno;
    return CPU_ISSET(cpu, &set) ? 0 : EPERM;
}

// Writes the ST entry and turns the TPH Requester on (device-specific ST
// mode, TPH only).
int program_tph(Transport& t, uint16_t index, uint16_t st) {
    if (index != HCASIM_ST_INDEX_NONE) {
        if (int e = t.config_write(kTphStTable + 2u * index, &st, 2)) return e;
    }
    uint32_t ctrl = 0;
    if (int e = t.config_read(kTphCtrl, &ctrl, 4)) return e;
    ctrl = (ctrl & ~0x307u) | 0x2u | (0x1u << 8);
    return t.config_write(kTphCtrl, &ctrl, 4);
}

}  // namespace

ibv_dmah* alloc_dmah(ibv_context* ctx, ibv_dmah_init_attr* attr) {
    constexpr uint32_t supported = IBV_DMAH_INIT_ATTR_MASK_CPU_ID | IBV_DMAH_INIT_ATTR_MASK_PH |
                                   IBV_DMAH_INIT_ATTR_MASK_TPH_MEM_TYPE;
    constexpr uint32_t st_mask = IBV_DMAH_INIT_ATTR_MASK_CPU_ID | IBV_DMAH_INIT_ATTR_MASK_TPH_MEM_TYPE;
    int e = 0;
    if (attr->comp_mask & ~supported) e = EOPNOTSUPP;
    else if (!(attr->comp_mask & IBV_DMAH_INIT_ATTR_MASK_PH)) e = EINVAL;
    else if ((attr->comp_mask & st_mask) && (attr->comp_mask & st_mask) != st_mask) e = EINVAL;
    else if (attr->ph > 3) e = EINVAL;
    else if ((attr->comp_mask & st_mask) && attr->tph_mem_type > IBV_TPH_MEM_TYPE_PM) e = EINVAL;
    else if (attr->comp_mask & IBV_DMAH_INIT_ATTR_MASK_CPU_ID) e = check_cpu(attr->cpu_id);
    ContextImpl& c = impl(ctx);
    if (!e && !(c.caps.caps & HCASIM_CAP_TPH)) e = EOPNOTSUPP;
    if (e) {
        errno = e;
        return nullptr;
    }
    hcasim_alloc_dmah_in in{};
    if (attr->comp_mask & st_mask) {
        in.flags = HCASIM_DMAH_FLAG_ST;
        in.cpu_id = attr->cpu_id;
        in.mem_type = attr->tph_mem_type;
    }
    in.ph = attr->ph;
    hcasim_alloc_dmah_out out{};
    if ((e = c.cmd->run(in, out)) || (e = program_tph(*c.transport, out.st_index, out.st_value))) {
        if (out.dmah) {
            hcasim_dealloc_dmah_in din{};
            din.dmah = out.dmah;
            hcasim_dealloc_dmah_out dout{};
            c.cmd->run(din, dout);
        }
        errno = e;
        return nullptr;
    }
    auto* d = new (std::nothrow) DmahShell();
    if (!d) {
        errno = ENOMEM;
        return nullptr;
    }
    d->dmah.context = ctx;
    d->handle = out.dmah;
    d->refcount = 1;
    return &d->dmah;
}

int dealloc_dmah(ibv_dmah* ibdmah) {
    DmahShell* d = to_dmah(ibdmah);
    if (d->refcount.load() > 1) return EBUSY;  // MRs use it
    hcasim_dealloc_dmah_in in{};
    in.dmah = d->handle;
    hcasim_dealloc_dmah_out out{};
    if (int e = impl(ibdmah->context).cmd->run(in, out)) return e;
    delete d;
    return 0;
}

}  // namespace hcasim::verbs

using namespace hcasim::verbs;

HCASIM_EXPORT ibv_dmah* ibv_alloc_dmah(ibv_context* context, ibv_dmah_init_attr* attr) {
    return alloc_dmah(context, attr);
}

HCASIM_EXPORT int ibv_dealloc_dmah(ibv_dmah* dmah) { return dealloc_dmah(dmah); }
