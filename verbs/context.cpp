// Device contexts: ibv_open_device / ibv_close_device (rdma-core
// ibv_open_device(3)).  Opening connects the transport, claims a command
// channel and reads the firmware capabilities; the verbs_context op table
// is filled here (the inline verbs in <infiniband/verbs.h> dispatch
// through it; ops left NULL make those verbs fail with EOPNOTSUPP).
#include "verbs/provider.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace hcasim::verbs {

namespace {

std::unique_ptr<Transport> open_transport(const DeviceLocation& loc) {
    return loc.kind == DeviceLocation::Kind::Pci ? open_pci_transport(loc.path)
                                                 : open_vfio_user_transport(loc.path);
}

int query_caps(ContextImpl& c) {
    hcasim_cmd_in_hdr in{};
    in.opcode = HCASIM_CMD_QUERY_HCA_CAP;
    return c.cmd->run(in, c.caps);
}

}  // namespace

int attach(ContextImpl& c) {
    c.transport = open_transport(*c.loc);
    if (!c.transport) return errno;
    c.cmd = std::make_unique<CommandChannel>(*c.transport);
    if (int e = c.cmd->open()) return e;
    c.pid = ::getpid();
    return query_caps(c);
}

void reattach_after_fork(ContextImpl& c) {
    // The parent's transport and channel stay the parent's: their
    // destructors would release its channel or shut down its socket, so
    // the child leaves them alone (and leaks them).
    (void)c.cmd.release();
    (void)c.transport.release();
    c.pid = ::getpid();
    if (int e = attach(c)) {
        // Every command now fails with ENODEV (host-direct: the device
        // serves one client at a time, so a forked child cannot connect).
        c.cmd.reset();
        c.transport = make_dead_transport();
        c.cmd = std::make_unique<CommandChannel>(*c.transport);
        errno = e;
    }
}

namespace {

void fill_context_ops(verbs_context& v) {
    v.sz = sizeof(verbs_context);
    v.query_device_ex = query_device_ex;
    v.query_port = query_port;
    v.alloc_dm = alloc_dm;
    v.free_dm = free_dm;
    v.reg_dm_mr = reg_dm_mr;
    v.reg_mr_ex = reg_mr_ex;
    v.alloc_dmah = alloc_dmah;
    v.dealloc_dmah = dealloc_dmah;
    v.alloc_td = alloc_td;
    v.dealloc_td = dealloc_td;
    v.alloc_parent_domain = alloc_parent_domain;
    fill_unsupported_ops(v.context.ops);
}

}  // namespace

}  // namespace hcasim::verbs

using namespace hcasim::verbs;

HCASIM_EXPORT ibv_context* ibv_open_device(ibv_device* device) {
    auto im = std::make_unique<ContextImpl>();
    im->loc = to_dev(device)->loc;
    if (int e = attach(*im)) {
        errno = e;
        return nullptr;
    }
    im->fds[0] = ::eventfd(0, EFD_CLOEXEC);
    im->fds[1] = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    auto* shell = new (std::nothrow) ContextShell{};
    if (!shell) {
        errno = ENOMEM;
        return nullptr;
    }
    std::memset(&shell->vctx, 0, sizeof(shell->vctx));
    shell->impl = im.release();
    verbs_context& v = shell->vctx;
    fill_context_ops(v);
    ibv_context& c = v.context;
    c.device = device;
    c.cmd_fd = shell->impl->fds[0];
    c.async_fd = shell->impl->fds[1];
    c.num_comp_vectors = 1;
    pthread_mutex_init(&c.mutex, nullptr);
    c.abi_compat = __VERBS_ABI_IS_EXTENDED;
    return &c;
}

HCASIM_EXPORT int ibv_close_device(ibv_context* context) {
    ContextShell* shell = to_ctx(context);
    ContextImpl* im = shell->impl;
    // Releasing the channel makes the device destroy whatever this context
    // still owns (like closing the uverbs fd).
    im->cmd.reset();
    im->transport.reset();
    for (int fd : im->fds)
        if (fd >= 0) ::close(fd);
    pthread_mutex_destroy(&context->mutex);
    delete im;
    delete shell;
    return 0;
}
