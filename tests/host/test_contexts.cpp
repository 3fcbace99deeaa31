// Host-direct: many device contexts open at once (rdma-core
// ibv_open_device(3)).  On mlx5 a context is a uverbs file: a process can
// keep dozens open, and rdma-core's python suite does (every test skipped
// after its setUp opened a context keeps it until the run ends).  Each
// hcasim context claims a command channel: the device has enough of them,
// EBUSY past the last, and closing a context frees its channel.
#include "tests/host/verbs_fixture.h"

#include <vector>

using namespace hcasim::test;

TEST_CASE("open_device: 128 contexts at once, each usable; EBUSY past the channels") {
    VerbsFixture f;  // one context already
    std::vector<ibv_context*> ctxs;
    for (;;) {
        errno = 0;
        ibv_context* c = ibv_open_device(f.list[0]);
        if (!c) {
            CHECK(errno == EBUSY);
            break;
        }
        ctxs.push_back(c);
        REQUIRE(ctxs.size() < 10000);
    }
    CHECK(ctxs.size() + 1 >= 128);
    for (ibv_context* c : ctxs) {
        ibv_pd* pd = ibv_alloc_pd(c);
        CHECK(pd);
        if (pd) CHECK(ibv_dealloc_pd(pd) == 0);
    }
    // A closed context's channel is free again.
    CHECK(ibv_close_device(ctxs.back()) == 0);
    ctxs.back() = ibv_open_device(f.list[0]);
    CHECK(ctxs.back());
    for (ibv_context* c : ctxs)
        if (c) CHECK(ibv_close_device(c) == 0);
}
