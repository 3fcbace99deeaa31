// Async events: ibv_get_async_event, ibv_ack_async_event (rdma-core
// ibv_get_async_event(3)).  A context opened where interrupts reach the
// process (host-direct) gets an event queue (eq.cpp) that its QPs, CQs and
// SRQs name as their async EQ; context->async_fd is its fd.  The device
// raises QP errors (IBV_EVENT_QP_FATAL, _REQ_ERR, _ACCESS_ERR),
// IBV_EVENT_QP_LAST_WQE_REACHED, IBV_EVENT_SRQ_LIMIT_REACHED and
// IBV_EVENT_CQ_ERR; an event for an object already destroyed is dropped.
// As libibverbs, destroying a QP, CQ or SRQ waits until every event
// reported for it was acked.  Where no event queue exists (no interrupt
// reaches the process: in a guest without the hcasim_irq module, or every
// MSI-X vector taken), ibv_get_async_event fails with -1 / EOPNOTSUPP.
#include "verbs/provider.h"

#include <cerrno>

namespace hcasim::verbs {

uint32_t ContextImpl::async_eqn() const { return async ? async->eqn : HCASIM_EQN_NONE; }

void open_async_events(ContextImpl& c) {
    auto eq = std::make_unique<EventQueue>();
    if (eq->open(c, true) == 0) c.async = std::move(eq);
}

void close_async_events(ContextImpl& c) {
    if (c.async && c.async->close() == 0) c.async.reset();
}

void wait_acked(pthread_mutex_t* mu, pthread_cond_t* cond, const uint32_t* completed,
                const uint32_t* reported) {
    pthread_mutex_lock(mu);
    while (*completed != *reported) pthread_cond_wait(cond, mu);
    pthread_mutex_unlock(mu);
}

namespace {

enum class Kind { Qp, Cq, Srq, Port, Device };

Kind kind_of(uint8_t event) {
    switch (event) {
    case IBV_EVENT_CQ_ERR: return Kind::Cq;
    case IBV_EVENT_SRQ_ERR:
    case IBV_EVENT_SRQ_LIMIT_REACHED: return Kind::Srq;
    case IBV_EVENT_PORT_ACTIVE:
    case IBV_EVENT_PORT_ERR:
    case IBV_EVENT_LID_CHANGE:
    case IBV_EVENT_PKEY_CHANGE:
    case IBV_EVENT_SM_CHANGE:
    case IBV_EVENT_CLIENT_REREGISTER:
    case IBV_EVENT_GID_CHANGE: return Kind::Port;
    case IBV_EVENT_DEVICE_FATAL: return Kind::Device;
    default: return Kind::Qp;
    }
}

template <class T>
T* lookup(ContextImpl& c, std::map<uint32_t, T*> ContextImpl::*table, uint32_t num) {
    auto it = (c.*table).find(num);
    return it == (c.*table).end() ? nullptr : it->second;
}

// Counts one reported event on the object (its mutex, as libibverbs).
void reported(pthread_mutex_t* mu, uint32_t* count) {
    pthread_mutex_lock(mu);
    ++*count;
    pthread_mutex_unlock(mu);
}

void acked(pthread_mutex_t* mu, pthread_cond_t* cond, uint32_t* count) {
    pthread_mutex_lock(mu);
    ++*count;
    pthread_cond_broadcast(cond);
    pthread_mutex_unlock(mu);
}

// The event for `e`, or false when its object is gone.
bool resolve(ContextImpl& c, const hcasim_eqe& e, ibv_async_event& out) {
    out = {};
    out.event_type = static_cast<ibv_event_type>(e.ibv_event);
    std::lock_guard lock(c.obj_mu);
    switch (kind_of(e.ibv_event)) {
    case Kind::Qp:
        if (QpShell* qp = lookup(c, &ContextImpl::qps, e.obj)) {
            reported(&qp->ibqp()->mutex, &qp->events_reported);
            out.element.qp = qp->ibqp();
            return true;
        }
        return false;
    case Kind::Cq:
        if (CqShell* cq = lookup(c, &ContextImpl::cqs, e.obj)) {
            reported(&cq->cq.mutex, &cq->async_reported);
            out.element.cq = ibv_cq_ex_to_cq(&cq->cq);
            return true;
        }
        return false;
    case Kind::Srq:
        if (SrqShell* srq = lookup(c, &ContextImpl::srqs, e.obj)) {
            reported(&srq->srq.mutex, &srq->events_reported);
            out.element.srq = &srq->srq;
            return true;
        }
        return false;
    case Kind::Port: out.element.port_num = static_cast<int>(e.obj); return true;
    case Kind::Device: return true;
    }
    return false;
}

}  // namespace

}  // namespace hcasim::verbs

using namespace hcasim::verbs;

HCASIM_EXPORT int ibv_get_async_event(ibv_context* context, ibv_async_event* event) {
    ContextImpl& c = impl(context);
    if (!c.async) {
        errno = EOPNOTSUPP;
        return -1;
    }
    for (;;) {
        hcasim_eqe e{};
        if (int err = c.async->next(e)) {  // blocks for the next event
            errno = err;
            return -1;
        }
        if (e.type == HCASIM_EVENT_ASYNC && resolve(c, e, *event)) return 0;
    }
}

HCASIM_EXPORT void ibv_ack_async_event(ibv_async_event* event) {
    switch (kind_of(static_cast<uint8_t>(event->event_type))) {
    case Kind::Qp: {
        ibv_qp* qp = event->element.qp;
        acked(&qp->mutex, &qp->cond, &qp->events_completed);
        break;
    }
    case Kind::Cq: {
        ibv_cq* cq = event->element.cq;
        acked(&cq->mutex, &cq->cond, &cq->async_events_completed);
        break;
    }
    case Kind::Srq: {
        ibv_srq* srq = event->element.srq;
        acked(&srq->mutex, &srq->cond, &srq->events_completed);
        break;
    }
    default: break;
    }
}
