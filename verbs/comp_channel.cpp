// Completion channels and CQ events: ibv_create_comp_channel,
// ibv_destroy_comp_channel, ibv_get_cq_event, ibv_ack_cq_events (rdma-core
// ibv_create_comp_channel(3), ibv_get_cq_event(3)).
//
// A channel is an event queue of the device (CREATE_EQ) on an MSI-X
// vector of its own, which the device signals through the channel's fd
// (an eventfd in semaphore mode, so it stays readable exactly while events
// are pending) after each EQE.  A CQ created on the channel has its events
// (ibv_req_notify_cq arms it) written there; ibv_get_cq_event reads one
// count from the fd (blocking, or EAGAIN if the caller made it
// non-blocking), then takes the EQE it stands for (owner bit rule of
// abi/hcasim_abi.h, ci to the EQ's doorbell record).
// Interrupts reach a process only host-direct today (vfio-user
// DEVICE_SET_IRQS); in a guest ibv_create_comp_channel fails with
// EOPNOTSUPP until the interrupt path exists.  Errors: ibv_destroy_comp_channel
// while CQs use it -> EBUSY; no vector left -> ENOSPC.
#include "verbs/provider.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>

namespace hcasim::verbs {

namespace {

constexpr uint32_t kLogEqSize = 12;  // 4096 events before the EQ overflows

int destroy_eq(ContextImpl& c, uint32_t eqn) {
    hcasim_destroy_eq_in in{};
    in.hdr.opcode = HCASIM_CMD_DESTROY_EQ;
    in.eqn = eqn;
    hcasim_destroy_eq_out out{};
    return c.cmd->run(in, out);
}

void release(CompChannel* ch, bool irq) {
    ContextImpl& c = *ch->c;
    if (irq) c.transport->free_irq(ch->vector);
    dbrec_free(c, nullptr, ch->db);
    provider_buffer_free(c, nullptr, ch->ring);
    if (ch->ch.fd >= 0) ::close(ch->ch.fd);
    delete ch;
}

// Takes the next EQE (ch->mu held): the CQ of a completion event, or
// nullptr (no EQE, or one for a CQ that is gone).
CqShell* next_event(CompChannel* ch) {
    auto* ring = reinterpret_cast<volatile hcasim_eqe*>(ch->ring.ptr);
    volatile hcasim_eqe* e = ring + (ch->ci & (ch->entries - 1));
    if ((e->owner & 1u) != (((ch->ci / ch->entries) & 1u) ^ 1u)) return nullptr;
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    const uint8_t type = e->type;
    const uint32_t cqn = e->obj;
    store_le32(&ch->db.va[0], ++ch->ci);
    if (type != HCASIM_EVENT_COMPLETION) return nullptr;
    for (CqShell* cq : ch->cqs)
        if (cq->cqn == cqn) return cq;
    return nullptr;
}

}  // namespace

void channel_attach(CompChannel* ch, CqShell* cq) {
    std::lock_guard lock(ch->mu);
    ch->cqs.push_back(cq);
    ++ch->ch.refcnt;
}

void channel_detach(CompChannel* ch, CqShell* cq) {
    std::lock_guard lock(ch->mu);
    ch->cqs.erase(std::remove(ch->cqs.begin(), ch->cqs.end(), cq), ch->cqs.end());
    --ch->ch.refcnt;
}

}  // namespace hcasim::verbs

using namespace hcasim::verbs;

HCASIM_EXPORT ibv_comp_channel* ibv_create_comp_channel(ibv_context* context) {
    ContextImpl& c = impl(context);
    auto* ch = new (std::nothrow) CompChannel();
    if (!ch) {
        errno = ENOMEM;
        return nullptr;
    }
    ch->c = &c;
    ch->ch.context = context;
    ch->ch.fd = ::eventfd(0, EFD_CLOEXEC | EFD_SEMAPHORE);
    ch->entries = 1u << kLogEqSize;
    int e = ch->ch.fd < 0 ? errno : 0;
    if (!e) e = c.transport->alloc_irq(ch->ch.fd, ch->vector);
    const bool irq = !e;
    if (!e) e = provider_buffer_alloc(c, nullptr, ch->entries * sizeof(hcasim_eqe), 4096, 0, ch->ring);
    if (!e) e = dbrec_alloc(c, nullptr, ch->db);
    hcasim_create_eq_out out{};
    if (!e) {
        hcasim_create_eq_in in{};
        in.hdr.opcode = HCASIM_CMD_CREATE_EQ;
        in.log_size = kLogEqSize;
        in.msix_vector = ch->vector;
        in.buf = queue_buf(ch->ring, ch->db);
        e = exec_with_pages(c, &in, sizeof(in), &in.buf.num_mtt_pages, ch->ring.pages, &out,
                            sizeof(out));
    }
    if (e) {
        release(ch, irq);
        errno = e;
        return nullptr;
    }
    ch->eqn = out.eqn;
    return &ch->ch;
}

HCASIM_EXPORT int ibv_destroy_comp_channel(ibv_comp_channel* channel) {
    CompChannel* ch = to_channel(channel);
    {
        std::lock_guard lock(ch->mu);
        if (ch->ch.refcnt) return EBUSY;  // CQs use it
    }
    if (int e = destroy_eq(*ch->c, ch->eqn)) return e;
    release(ch, true);
    return 0;
}

HCASIM_EXPORT int ibv_get_cq_event(ibv_comp_channel* channel, ibv_cq** cq, void** cq_context) {
    CompChannel* ch = to_channel(channel);
    for (;;) {
        // One count per EQE the device wrote (blocks until there is one).
        uint64_t n = 0;
        if (::read(ch->ch.fd, &n, sizeof(n)) != sizeof(n)) return -1;  // errno set (EAGAIN, ...)
        std::lock_guard lock(ch->mu);
        if (CqShell* c = next_event(ch)) {
            pthread_mutex_lock(&c->cq.mutex);
            ++c->events_reported;
            pthread_mutex_unlock(&c->cq.mutex);
            *cq = ibv_cq_ex_to_cq(&c->cq);
            *cq_context = c->cq.cq_context;
            return 0;
        }
    }
}

HCASIM_EXPORT void ibv_ack_cq_events(ibv_cq* ibcq, unsigned int nevents) {
    pthread_mutex_lock(&ibcq->mutex);
    ibcq->comp_events_completed += nevents;
    pthread_cond_broadcast(&ibcq->cond);
    pthread_mutex_unlock(&ibcq->mutex);
}
