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
#include <map>
#include <mutex>

namespace hcasim::verbs {

namespace {

// Host-direct, the device serves one vfio-user client at a time: the
// contexts a process opens on one socket share its connection (each still
// claims its own command channel).  In a guest each context maps the BARs
// itself.
std::shared_ptr<Transport> open_transport(const DeviceLocation& loc) {
    if (loc.kind == DeviceLocation::Kind::Pci) return open_pci_transport(loc.path);
    static std::mutex mu;
    static std::map<std::pair<pid_t, std::string>, std::weak_ptr<Transport>> open;
    std::lock_guard lock(mu);
    const auto key = std::make_pair(::getpid(), loc.path);
    if (auto t = open[key].lock()) return t;
    std::shared_ptr<Transport> t = open_vfio_user_transport(loc.path);
    if (t) open[key] = t;
    return t;
}

int query_caps(ContextImpl& c) {
    hcasim_cmd_in_hdr in{};
    return c.cmd->run(in, c.caps);
}

// The UAR area of BAR2 (status page, then one page per UAR), when the
// transport maps it.
void map_uars(ContextImpl& c) {
    uint8_t* bar2 = c.transport->bar2();
    const uint64_t off = c.caps.uar_bar_offset;
    const uint64_t end = off + (uint64_t{c.caps.num_uars} + 1) * HCASIM_UAR_PAGE_SIZE;
    if (!bar2 || c.caps.num_uars == 0 || off == 0 || end > c.transport->bar2_len()) return;
    c.status = reinterpret_cast<volatile hcasim_status_page*>(bar2 + off);
    c.uar.index = c.cmd->uar_index();
    c.uar.page = uar_page(c, c.uar.index);
    c.cmd->set_uar(c.uar.page, c.status);
}

}  // namespace

volatile hcasim_uar* uar_page(ContextImpl& c, uint32_t index) {
    if (!c.status || index == 0 || index > c.caps.num_uars) return nullptr;
    uint8_t* base = c.transport->bar2() + c.caps.uar_bar_offset;
    return reinterpret_cast<volatile hcasim_uar*>(base + uint64_t{index} * HCASIM_UAR_PAGE_SIZE);
}

int attach(ContextImpl& c) {
    c.transport = open_transport(*c.loc);
    if (!c.transport) return errno;
    c.cmd = std::make_unique<CommandChannel>(*c.transport);
    if (int e = c.cmd->open()) return e;
    c.pid = ::getpid();
    c.uar = Uar{c.cmd->uar_index(), nullptr};
    if (int e = query_caps(c)) return e;
    map_uars(c);
    open_async_events(c);  // where interrupts reach this process
    return 0;
}

void reattach_after_fork(ContextImpl& c) {
    // The parent's transport and channel stay the parent's: their
    // destructors would release its channel or shut down its socket, so
    // the child leaves them alone (and leaks them).
    (void)c.cmd.release();
    (void)c.async.release();
    (void)new std::shared_ptr<Transport>(std::move(c.transport));
    new (&c.dbrecs) DbrecPool();  // the parent's pages are not the child's
    c.status = nullptr;
    c.uar = {};
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

}  // namespace hcasim::verbs

using namespace hcasim::verbs;

HCASIM_EXPORT ibv_context* ibv_open_device(ibv_device* device) {
    auto im = std::make_unique<ContextImpl>();
    im->loc = to_dev(device)->loc;
    if (int e = attach(*im)) {
        errno = e;
        return nullptr;
    }
    to_dev(device)->node_guid = im->caps.node_guid;
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
    fill_ops(v);
    ibv_context& c = v.context;
    c.device = device;
    c.cmd_fd = shell->impl->fds[0];
    c.async_fd = shell->impl->async ? shell->impl->async->fd : shell->impl->fds[1];
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
    if (im->pid == ::getpid()) close_async_events(*im);
    im->cmd.reset();
    if (im->pid == ::getpid()) im->dbrecs.release(*im->transport);
    im->transport.reset();
    for (int fd : im->fds)
        if (fd >= 0) ::close(fd);
    pthread_mutex_destroy(&context->mutex);
    delete im;
    delete shell;
    return 0;
}
