// Completion channels and CQ events: ibv_create_comp_channel,
// ibv_destroy_comp_channel, ibv_get_cq_event, ibv_ack_cq_events (rdma-core
// ibv_create_comp_channel(3), ibv_get_cq_event(3)).
//
// A channel is a device event queue (eq.cpp) whose fd is the channel's: it
// is readable exactly while events are pending.  A CQ created on the
// channel has its events (ibv_req_notify_cq arms it) written there;
// ibv_get_cq_event takes the next one (blocking, or EAGAIN if the caller
// made the fd non-blocking) and returns its CQ.
// Interrupts reach a process host-direct through vfio-user DEVICE_SET_IRQS,
// in a guest through the module hcasim_irq (docs/events.md); where neither
// exists (module not loaded) ibv_create_comp_channel fails with EOPNOTSUPP.
// Errors: ibv_destroy_comp_channel while CQs use it -> EBUSY; no vector
// left -> ENOSPC.
#include "verbs/provider.h"

#include <algorithm>
#include <cerrno>
#include <new>

namespace hcasim::verbs {

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
    auto* ch = new (std::nothrow) CompChannel();
    if (!ch) {
        errno = ENOMEM;
        return nullptr;
    }
    if (int e = ch->eq.open(impl(context), false)) {
        delete ch;
        errno = e;
        return nullptr;
    }
    ch->ch.context = context;
    ch->ch.fd = ch->eq.fd;
    return &ch->ch;
}

HCASIM_EXPORT int ibv_destroy_comp_channel(ibv_comp_channel* channel) {
    CompChannel* ch = to_channel(channel);
    {
        std::lock_guard lock(ch->mu);
        if (ch->ch.refcnt) return EBUSY;  // CQs use it
    }
    if (int e = ch->eq.close()) return e;
    delete ch;
    return 0;
}

HCASIM_EXPORT int ibv_get_cq_event(ibv_comp_channel* channel, ibv_cq** cq, void** cq_context) {
    CompChannel* ch = to_channel(channel);
    for (;;) {
        hcasim_eqe e{};
        if (int err = ch->eq.next(e)) {  // blocks for the next event
            errno = err;
            return -1;
        }
        if (e.type != HCASIM_EVENT_COMPLETION) continue;
        std::lock_guard lock(ch->mu);
        for (CqShell* c : ch->cqs) {
            if (c->cqn != e.obj) continue;
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
