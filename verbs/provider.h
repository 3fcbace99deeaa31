// hcasim's verbs provider: the objects behind rdma-core's public structs.
// Each shell below is standard-layout with the rdma-core struct first, so
// a pointer to the public struct converts back to the shell (the same
// pattern as rdma-core providers' to_mctx()/to_mpd()).
#pragma once

#include "verbs/command_channel.h"
#include "verbs/transport.h"

#include <infiniband/verbs.h>

#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>

#define HCASIM_EXPORT extern "C" __attribute__((visibility("default")))

namespace hcasim::verbs {

// Where a device is reached.
struct DeviceLocation {
    enum class Kind { Pci, VfioUser } kind;
    std::string path;  // sysfs PCI dir, or socket path
};

struct DeviceShell {
    ibv_device dev;  // first
    DeviceLocation* loc;
};

// Per-context state that is not part of rdma-core's structs.
struct ContextImpl {
    std::unique_ptr<Transport> transport;
    std::unique_ptr<CommandChannel> cmd;
    hcasim_query_hca_cap_out caps{};
    int fds[2] = {-1, -1};  // cmd_fd/async_fd stand-ins (eventfds)
    const DeviceLocation* loc = nullptr;
    pid_t pid = 0;          // the process that owns transport and cmd
};

// Connects a context's transport, claims its channel and reads the caps.
int attach(ContextImpl& c);
// After fork() the child cannot use its parent's DMA pages (DONTFORK) nor
// its command channel: give the child its own (rdma-core programs, and
// pyverbs' tests, use the parent's context from forked children).
void reattach_after_fork(ContextImpl& c);

struct ContextShell {
    verbs_context vctx;  // first; its last member is the ibv_context
    ContextImpl* impl;
};

struct TdShell {
    ibv_td td;  // first
    std::atomic<int> refcount;  // 1 + parent domains using it
};

// A protection domain, or a parent domain (rdma-core
// ibv_alloc_parent_domain(3)): both are an ibv_pd to the caller.
struct PdShell {
    ibv_pd pd;  // first
    uint32_t pdn;               // the device PD (a parent domain's PD's)
    std::atomic<int> refcount;  // 1 + parent domains / objects using it
    // Parent domain only:
    bool is_parent = false;
    PdShell* protection = nullptr;
    TdShell* td = nullptr;
    void* (*alloc)(ibv_pd*, void*, size_t, size_t, uint64_t) = nullptr;
    void (*free)(ibv_pd*, void*, void*, uint64_t) = nullptr;
    void* pd_context = nullptr;
};

struct DmahShell {
    ibv_dmah dmah;  // first
    uint32_t handle;
    std::atomic<int> refcount;  // 1 + MRs using it
};

struct MrShell {
    ibv_mr mr;  // first
    uint32_t mkey;
    struct DmShell* dm = nullptr;  // DM MR: the DM it lies in
    void* pinned = nullptr;  // host range pinned for the MTT
    size_t pinned_len = 0;
    DmahShell* dmah = nullptr;
};

struct DmShell {
    ibv_dm dm;          // first
    std::atomic<int> mrs{0};  // DM MRs on it (ibv_free_dm -> EBUSY)
    uint32_t type;        // MLX5DV_DM_TYPE_* (0 = MEMIC)
    uint64_t memic_addr;  // MEMIC: byte offset in BAR2
    uint64_t remote_va;   // SW ICM: the ICM address
    uint64_t length;      // bytes the user asked for (bounds of memcpy)
    uint64_t alloc_len;   // bytes allocated (64-byte units / power of two)
    uint8_t* va;          // MEMIC: CPU mapping of the block; SW ICM: NULL
};

inline ContextShell* to_ctx(ibv_context* c) {
    return reinterpret_cast<ContextShell*>(verbs_get_ctx(c));
}
inline ContextImpl& impl(ibv_context* c) {
    ContextImpl& im = *to_ctx(c)->impl;
    if (im.pid != ::getpid()) reattach_after_fork(im);
    return im;
}
inline PdShell* to_pd(ibv_pd* p) { return reinterpret_cast<PdShell*>(p); }
inline DmShell* to_dm(ibv_dm* d) { return reinterpret_cast<DmShell*>(d); }
inline TdShell* to_td(ibv_td* t) { return reinterpret_cast<TdShell*>(t); }
inline DmahShell* to_dmah(ibv_dmah* d) { return reinterpret_cast<DmahShell*>(d); }
inline MrShell* to_mr(ibv_mr* m) { return reinterpret_cast<MrShell*>(m); }
inline DeviceShell* to_dev(ibv_device* d) { return reinterpret_cast<DeviceShell*>(d); }

// Context ops (verbs_context) implemented in dm.cpp / device_query.cpp.
int query_device_ex(ibv_context* ctx, const ibv_query_device_ex_input* input,
                    ibv_device_attr_ex* attr, size_t attr_size);
int query_port(ibv_context* ctx, uint8_t port_num, ibv_port_attr* attr, size_t attr_size);
ibv_dm* alloc_dm(ibv_context* ctx, ibv_alloc_dm_attr* attr);
// mlx5dv_alloc_dm(3): MEMIC or one of the SW ICM types.
ibv_dm* alloc_dm_typed(ibv_context* ctx, ibv_alloc_dm_attr* attr, uint32_t type);
int free_dm(ibv_dm* dm);
ibv_mr* reg_dm_mr(ibv_pd* pd, ibv_dm* dm, uint64_t dm_offset, size_t length, unsigned int access);
ibv_mr* reg_mr_ex(ibv_pd* pd, ibv_mr_init_attr* attr);
ibv_dmah* alloc_dmah(ibv_context* ctx, ibv_dmah_init_attr* attr);
int dealloc_dmah(ibv_dmah* dmah);
ibv_td* alloc_td(ibv_context* ctx, ibv_td_init_attr* attr);
int dealloc_td(ibv_td* td);
ibv_pd* alloc_parent_domain(ibv_context* ctx, ibv_parent_domain_init_attr* attr);

// Creates an mkey; `extra` are the MTT page addresses that follow the
// fixed input.  Returns 0 or errno.
int create_mkey(ibv_context* ctx, const hcasim_create_mkey_in& in,
                const std::vector<uint64_t>& mtt_pages, uint32_t& mkey);
int destroy_mkey(ibv_context* ctx, uint32_t mkey);
// The MR object for a created mkey; on allocation failure destroys the
// mkey and returns nullptr with errno ENOMEM.
MrShell* new_mr(ibv_pd* pd, void* addr, size_t length, uint32_t mkey);

// Provider buffers (queues, doorbell records) through a parent domain's
// allocators: alloc(pd, pd_context, size, alignment, resource_type), with
// IBV_ALLOCATOR_USE_DEFAULT meaning "allocate it yourself" and NULL a
// failure (ENOMEM).  resource_type is one of mlx5dv.h's MLX5DV_RES_TYPE_*.
struct ProviderBuffer {
    void* ptr = nullptr;
    size_t size = 0;
    uint64_t resource_type = 0;
    bool from_user_allocator = false;
};
int provider_buffer_alloc(ibv_pd* pd, size_t size, size_t alignment, uint64_t resource_type,
                          ProviderBuffer& out);
void provider_buffer_free(ibv_pd* pd, ProviderBuffer& buf);

// Fills the legacy ibv_context_ops with functions that fail cleanly.
void fill_unsupported_ops(ibv_context_ops& ops);

}  // namespace hcasim::verbs
