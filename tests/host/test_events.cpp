// Host-direct: completion channels and CQ events (rdma-core
// ibv_create_comp_channel(3), ibv_req_notify_cq(3), ibv_get_cq_event(3),
// ibv_ack_cq_events(3)): one event per arm, solicited-only arming, arming
// a CQ that already holds CQEs, a non-blocking channel fd, the busy rule.
// The device signals the channel's eventfd through an MSI-X vector
// (vfio-user DEVICE_SET_IRQS).
#include "tests/host/rdma_fixture.h"

#include <fcntl.h>
#include <poll.h>

#include <chrono>
#include <thread>

using namespace hcasim::test;

namespace {

bool readable(int fd, int timeout_ms) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, timeout_ms) == 1;
}

struct Evented : VerbsFixture {
    Evented() {
        ch = ibv_create_comp_channel(ctx);
        REQUIRE(ch);
        CHECK(ch->context == ctx);
        scq = ibv_create_cq(ctx, 16, nullptr, nullptr, 0);
        rcq = ibv_create_cq(ctx, 16, reinterpret_cast<void*>(0xbeef), ch, 0);
        REQUIRE(scq);
        REQUIRE(rcq);
        CHECK(rcq->channel == ch);
        a = create_qp(pd, scq, scq, IBV_QPT_RC);
        b = create_qp(pd, scq, rcq, IBV_QPT_RC);
        connect_pair(a, b);
    }
    ~Evented() {
        CHECK(ibv_destroy_qp(a) == 0);
        CHECK(ibv_destroy_qp(b) == 0);
        CHECK(ibv_destroy_cq(scq) == 0);
        CHECK(ibv_destroy_cq(rcq) == 0);
        CHECK(ibv_destroy_comp_channel(ch) == 0);
    }
    // a sends one message to b (a receive is posted first).
    void message(Buffer& src, Buffer& dst, unsigned flags = IBV_SEND_SIGNALED) {
        REQUIRE(post_recv_one(b, {dst.sge(0, 64)}, 1) == 0);
        REQUIRE(post_one(a, IBV_WR_SEND, {src.sge(0, 8)}, 2, flags) == 0);
        REQUIRE(poll_cq(scq, 1).size() == 1);
    }
    ibv_comp_channel* ch = nullptr;
    ibv_cq *scq = nullptr, *rcq = nullptr;
    ibv_qp *a = nullptr, *b = nullptr;
};

}  // namespace

TEST_CASE("CQ events: one per arm, with the CQ and its context; acked before destroy") {
    Evented e;
    Buffer src(e.pd, 64, kAllAccess, 1), dst(e.pd, 64);
    REQUIRE(ibv_req_notify_cq(e.rcq, 0) == 0);
    CHECK_FALSE(readable(e.ch->fd, 50));  // armed, nothing happened
    e.message(src, dst);
    REQUIRE(readable(e.ch->fd, 5000));
    ibv_cq* cq = nullptr;
    void* cq_ctx = nullptr;
    REQUIRE(ibv_get_cq_event(e.ch, &cq, &cq_ctx) == 0);
    CHECK(cq == e.rcq);
    CHECK(cq_ctx == reinterpret_cast<void*>(0xbeef));
    auto wc = poll_cq(e.rcq, 1);
    REQUIRE(wc.size() == 1);
    CHECK(wc[0].status == IBV_WC_SUCCESS);
    // Not re-armed: the next completion raises nothing.
    e.message(src, dst);
    REQUIRE(poll_cq(e.rcq, 1).size() == 1);
    CHECK_FALSE(readable(e.ch->fd, 50));
    // Re-armed: again one event.
    REQUIRE(ibv_req_notify_cq(e.rcq, 0) == 0);
    e.message(src, dst);
    REQUIRE(ibv_get_cq_event(e.ch, &cq, &cq_ctx) == 0);
    CHECK(cq == e.rcq);
    REQUIRE(poll_cq(e.rcq, 1).size() == 1);
    CHECK(ibv_destroy_comp_channel(e.ch) == EBUSY);  // a CQ uses it
    ibv_ack_cq_events(e.rcq, 2);
    CHECK(e.rcq->comp_events_completed == 2);
}

TEST_CASE("CQ events: solicited-only arming waits for a solicited message") {
    Evented e;
    Buffer src(e.pd, 64, kAllAccess, 1), dst(e.pd, 64);
    REQUIRE(ibv_req_notify_cq(e.rcq, 1) == 0);
    e.message(src, dst);  // not solicited
    REQUIRE(poll_cq(e.rcq, 1).size() == 1);
    CHECK_FALSE(readable(e.ch->fd, 50));
    e.message(src, dst, IBV_SEND_SIGNALED | IBV_SEND_SOLICITED);
    REQUIRE(readable(e.ch->fd, 5000));
    ibv_cq* cq = nullptr;
    void* cq_ctx = nullptr;
    REQUIRE(ibv_get_cq_event(e.ch, &cq, &cq_ctx) == 0);
    CHECK(cq == e.rcq);
    auto wc = poll_cq(e.rcq, 1);
    REQUIRE(wc.size() == 1);
    ibv_ack_cq_events(e.rcq, 1);
}

TEST_CASE("CQ events: arming a CQ that holds CQEs fires at once; a non-blocking fd says EAGAIN") {
    Evented e;
    Buffer src(e.pd, 64, kAllAccess, 1), dst(e.pd, 64);
    const int flags = fcntl(e.ch->fd, F_GETFL);
    REQUIRE(fcntl(e.ch->fd, F_SETFL, flags | O_NONBLOCK) == 0);
    ibv_cq* cq = nullptr;
    void* cq_ctx = nullptr;
    errno = 0;
    CHECK(ibv_get_cq_event(e.ch, &cq, &cq_ctx) == -1);
    CHECK(errno == EAGAIN);
    e.message(src, dst);  // a CQE sits unpolled in rcq
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    REQUIRE(ibv_req_notify_cq(e.rcq, 0) == 0);
    REQUIRE(readable(e.ch->fd, 5000));
    REQUIRE(ibv_get_cq_event(e.ch, &cq, &cq_ctx) == 0);
    CHECK(cq == e.rcq);
    REQUIRE(poll_cq(e.rcq, 1).size() == 1);
    ibv_ack_cq_events(e.rcq, 1);
    errno = 0;
    CHECK(ibv_get_cq_event(e.ch, &cq, &cq_ctx) == -1);
    CHECK(errno == EAGAIN);
}

TEST_CASE("CQ events: two CQs on one channel; the fd stays readable until both events are taken") {
    // Interrupts coalesce (QEMU raises one MSI for several eventfd writes),
    // so the channel's fd must stay readable while an EQE is pending,
    // whatever the count (docs/events.md).
    Evented e;
    ibv_cq* rcq2 = ibv_create_cq(e.ctx, 16, reinterpret_cast<void*>(0xcafe), e.ch, 0);
    REQUIRE(rcq2);
    ibv_qp* a2 = create_qp(e.pd, e.scq, e.scq, IBV_QPT_RC);
    ibv_qp* b2 = create_qp(e.pd, e.scq, rcq2, IBV_QPT_RC);
    connect_pair(a2, b2);
    Buffer src(e.pd, 64, kAllAccess, 1), dst(e.pd, 64), dst2(e.pd, 64);
    REQUIRE(ibv_req_notify_cq(e.rcq, 0) == 0);
    REQUIRE(ibv_req_notify_cq(rcq2, 0) == 0);
    e.message(src, dst);  // the receiver's CQE (and its EQE) precede the ACK
    REQUIRE(post_recv_one(b2, {dst2.sge(0, 64)}, 1) == 0);
    REQUIRE(post_one(a2, IBV_WR_SEND, {src.sge(0, 8)}, 2, IBV_SEND_SIGNALED) == 0);
    REQUIRE(poll_cq(e.scq, 1).size() == 1);
    int seen = 0;
    for (int i = 0; i < 2; ++i) {
        REQUIRE(readable(e.ch->fd, i == 0 ? 5000 : 0));
        ibv_cq* cq = nullptr;
        void* cq_ctx = nullptr;
        REQUIRE(ibv_get_cq_event(e.ch, &cq, &cq_ctx) == 0);
        seen |= cq == e.rcq ? 1 : cq == rcq2 ? 2 : 4;
    }
    CHECK(seen == 3);
    const int flags = fcntl(e.ch->fd, F_GETFL);
    REQUIRE(fcntl(e.ch->fd, F_SETFL, flags | O_NONBLOCK) == 0);
    ibv_cq* cq = nullptr;
    void* cq_ctx = nullptr;
    errno = 0;
    CHECK(ibv_get_cq_event(e.ch, &cq, &cq_ctx) == -1);  // nothing left
    CHECK(errno == EAGAIN);
    REQUIRE(poll_cq(e.rcq, 1).size() == 1);
    REQUIRE(poll_cq(rcq2, 1).size() == 1);
    ibv_ack_cq_events(e.rcq, 1);
    ibv_ack_cq_events(rcq2, 1);
    CHECK(ibv_destroy_qp(a2) == 0);
    CHECK(ibv_destroy_qp(b2) == 0);
    CHECK(ibv_destroy_cq(rcq2) == 0);
}

TEST_CASE("completion channels: a CQ on another context's channel is EINVAL; several channels") {
    VerbsFixture f;
    ibv_comp_channel* chs[4];
    for (auto& c : chs) {
        c = ibv_create_comp_channel(f.ctx);
        REQUIRE(c);
    }
    ibv_context* other = ibv_open_device(f.list[0]);
    REQUIRE(other);
    errno = 0;
    CHECK(ibv_create_cq(other, 4, nullptr, chs[0], 0) == nullptr);
    CHECK(errno == EINVAL);
    CHECK(ibv_close_device(other) == 0);
    for (auto& c : chs) CHECK(ibv_destroy_comp_channel(c) == 0);
}

namespace {

ibv_async_event next_async(ibv_context* ctx) {
    REQUIRE(readable(ctx->async_fd, 5000));
    ibv_async_event ev{};
    REQUIRE(ibv_get_async_event(ctx, &ev) == 0);
    return ev;
}

}  // namespace

TEST_CASE("async events: the SRQ limit fires once when fewer WQEs than the limit remain") {
    SrqPair p(15);
    Buffer rx(p.pd, 10 * 64), tx(p.pd, 64, kAllAccess, 1);
    for (int i = 0; i < 10; ++i) REQUIRE(post_srq_one(p.srq, rx.sge(64 * i, 64), i) == 0);
    ibv_srq_attr lim{};
    lim.srq_limit = 8;
    REQUIRE(ibv_modify_srq(p.srq, &lim, IBV_SRQ_LIMIT) == 0);
    // 10 -> 9 -> 8: still at the limit, no event.
    for (int i = 0; i < 2; ++i) REQUIRE(post_one(p.s, IBV_WR_SEND, {tx.sge(0, 8)}, i) == 0);
    REQUIRE(poll_cq(p.cq, 4).size() == 4);
    CHECK_FALSE(readable(p.ctx->async_fd, 50));
    // 7 left: below the limit.
    REQUIRE(post_one(p.s, IBV_WR_SEND, {tx.sge(0, 8)}, 2) == 0);
    REQUIRE(poll_cq(p.cq, 2).size() == 2);
    ibv_async_event ev = next_async(p.ctx);
    CHECK(ev.event_type == IBV_EVENT_SRQ_LIMIT_REACHED);
    CHECK(ev.element.srq == p.srq);
    ibv_ack_async_event(&ev);
    CHECK(p.srq->events_completed == 1);
    ibv_srq_attr q{};
    REQUIRE(ibv_query_srq(p.srq, &q) == 0);
    CHECK(q.srq_limit == 0);  // disarmed
    REQUIRE(post_one(p.s, IBV_WR_SEND, {tx.sge(0, 8)}, 3) == 0);
    REQUIRE(poll_cq(p.cq, 2).size() == 2);
    CHECK_FALSE(readable(p.ctx->async_fd, 50));  // once per arming
}

TEST_CASE("async events: a responder's access error, then last WQE reached on its SRQ QP") {
    SrqPair p(4);
    const int flags = fcntl(p.ctx->async_fd, F_GETFL);
    REQUIRE(fcntl(p.ctx->async_fd, F_SETFL, flags | O_NONBLOCK) == 0);
    ibv_async_event ev{};
    errno = 0;
    CHECK(ibv_get_async_event(p.ctx, &ev) == -1);
    CHECK(errno == EAGAIN);
    {
        Buffer tx(p.pd, 64), target(p.pd, 64);
        REQUIRE(post_one(p.s, IBV_WR_RDMA_WRITE, {tx.sge(0, 8)}, 1, IBV_SEND_SIGNALED,
                         target.addr(), target.mr->rkey ^ 0x4400) == 0);
        auto wc = poll_cq(p.cq, 1);
        REQUIRE(wc.size() == 1);
        CHECK(wc[0].status == IBV_WC_REM_ACCESS_ERR);
    }
    ev = next_async(p.ctx);
    CHECK(ev.event_type == IBV_EVENT_QP_ACCESS_ERR);
    CHECK(ev.element.qp == p.r);
    ibv_ack_async_event(&ev);
    ev = next_async(p.ctx);
    CHECK(ev.event_type == IBV_EVENT_QP_LAST_WQE_REACHED);
    CHECK(ev.element.qp == p.r);
    ibv_ack_async_event(&ev);
    CHECK(p.r->events_completed == 2);
    CHECK_FALSE(readable(p.ctx->async_fd, 50));
}
