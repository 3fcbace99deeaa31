// Device event queues (CREATE_EQ / DESTROY_EQ, abi/hcasim_abi.h "EQE"):
// the EQ's ring and doorbell record in the library's DMA memory, and an
// MSI-X vector of its own (Transport::alloc_irq) that the device signals,
// after writing each EQE, through an eventfd: directly host-direct, through
// QEMU and the guest module hcasim_irq in a guest.  QEMU coalesces
// interrupts, so a count means "EQEs may be pending", never one EQE each.
// The consumer therefore takes EQEs by the owner bit and uses the eventfd
// only to sleep: after each EQE it resets the count and, if more EQEs are
// pending, puts one back, so that fd is readable while events are pending
// (poll(2) on a completion channel or async fd works).  An interrupt that
// lands after its EQE was already taken leaves one spurious count: the
// next read finds the ring empty and waits again (EAGAIN on a non-blocking
// fd), as docs/events.md says.
#include "verbs/provider.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

namespace hcasim::verbs {

namespace {

constexpr uint32_t kLogEqSize = 12;  // 4096 events before the EQ overflows

}  // namespace

int EventQueue::open(ContextImpl& ctx, bool async_events) {
    c = &ctx;
    entries = 1u << kLogEqSize;
    fd = ::eventfd(0, EFD_CLOEXEC);
    if (fd < 0) return errno;
    int e = c->transport->alloc_irq(fd, vector);
    has_irq = !e;
    if (!e) e = provider_buffer_alloc(*c, nullptr, entries * sizeof(hcasim_eqe), 4096, 0, ring);
    if (!e) e = dbrec_alloc(*c, nullptr, db);
    hcasim_create_eq_out out{};
    if (!e) {
        hcasim_create_eq_in in{};
        in.hdr.op_mod = async_events ? HCASIM_EQ_OPMOD_ASYNC : HCASIM_EQ_OPMOD_COMPLETION;
        in.log_size = kLogEqSize;
        in.msix_vector = vector;
        in.buf = queue_buf(ring, db);
        e = run_with_pages(*c, in, &in.buf.num_mtt_pages, ring.pages, out);
    }
    if (e) {
        eqn = 0;
        close();
        return e;
    }
    eqn = out.eqn;
    return 0;
}

int EventQueue::close() {
    if (eqn) {
        hcasim_destroy_eq_in in{};
        in.eqn = eqn;
        hcasim_destroy_eq_out out{};
        if (int e = c->cmd->run(in, out)) return e;
        eqn = 0;
    }
    if (has_irq) c->transport->free_irq(vector);
    has_irq = false;
    dbrec_free(*c, nullptr, db);
    provider_buffer_free(*c, nullptr, ring);
    if (fd >= 0) ::close(fd);
    fd = -1;
    return 0;
}

bool EventQueue::pending() const {
    auto* slot = reinterpret_cast<volatile hcasim_eqe*>(ring.ptr) + (ci & (entries - 1));
    return (slot->owner & 1u) == (((ci / entries) & 1u) ^ 1u);
}

void EventQueue::reset_count() {
    pollfd p{fd, POLLIN, 0};
    uint64_t n = 0;
    if (::poll(&p, 1, 0) == 1 && (p.revents & POLLIN)) (void)!::read(fd, &n, sizeof(n));
    if (pending()) {
        const uint64_t one = 1;
        (void)!::write(fd, &one, sizeof(one));
    }
}

int EventQueue::next(hcasim_eqe& e) {
    for (;;) {
        {
            std::lock_guard lock(mu);
            if (pending()) {
                auto* slot = reinterpret_cast<volatile hcasim_eqe*>(ring.ptr) + (ci & (entries - 1));
                __atomic_thread_fence(__ATOMIC_ACQUIRE);
                e.type = slot->type;
                e.ibv_event = slot->ibv_event;
                e.obj = slot->obj;
                e.seq = slot->seq;
                store_le32(&db.va[0], ++ci);
                reset_count();
                return 0;
            }
        }
        uint64_t n = 0;  // sleep until the device signals (or EAGAIN)
        if (::read(fd, &n, sizeof(n)) != sizeof(n)) return errno;
    }
}

}  // namespace hcasim::verbs
