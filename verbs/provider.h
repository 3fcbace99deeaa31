// hcasim's verbs provider: the objects behind rdma-core's public structs.
// Each shell below is standard-layout with the rdma-core struct first, so
// a pointer to the public struct converts back to the shell (the same
// pattern as rdma-core providers' to_mctx()/to_mpd()).
#pragma once

#include "verbs/command_channel.h"
#include "verbs/transport.h"

#include <infiniband/verbs.h>

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
};

struct ContextShell {
    verbs_context vctx;  // first; its last member is the ibv_context
    ContextImpl* impl;
};

struct PdShell {
    ibv_pd pd;  // first
    uint32_t pdn;
};

struct DmShell {
    ibv_dm dm;          // first
    uint64_t memic_addr;  // byte offset in BAR2
    uint64_t length;      // bytes the user asked for (bounds of memcpy)
    uint64_t alloc_len;   // bytes allocated (64-byte units)
    uint8_t* va;          // CPU mapping of the block
};

inline ContextShell* to_ctx(ibv_context* c) {
    return reinterpret_cast<ContextShell*>(verbs_get_ctx(c));
}
inline ContextImpl& impl(ibv_context* c) { return *to_ctx(c)->impl; }
inline PdShell* to_pd(ibv_pd* p) { return reinterpret_cast<PdShell*>(p); }
inline DmShell* to_dm(ibv_dm* d) { return reinterpret_cast<DmShell*>(d); }
inline DeviceShell* to_dev(ibv_device* d) { return reinterpret_cast<DeviceShell*>(d); }

// Context ops (verbs_context) implemented in dm.cpp / device_query.cpp.
int query_device_ex(ibv_context* ctx, const ibv_query_device_ex_input* input,
                    ibv_device_attr_ex* attr, size_t attr_size);
int query_port(ibv_context* ctx, uint8_t port_num, ibv_port_attr* attr, size_t attr_size);
ibv_dm* alloc_dm(ibv_context* ctx, ibv_alloc_dm_attr* attr);
int free_dm(ibv_dm* dm);

// Fills the legacy ibv_context_ops with functions that fail cleanly.
void fill_unsupported_ops(ibv_context_ops& ops);

}  // namespace hcasim::verbs
