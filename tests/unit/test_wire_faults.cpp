// Egress fault injection (device/wire_faults.h): each fault happens at
// about its rate, the choices repeat with the seed, a reordered frame
// goes out after the next one (or after its hold time), a delay keeps the
// order, corruption flips one bit past the Ethernet header, and the spec
// parser rejects what it does not know.
#include "device/wire_faults.h"

#include <doctest/doctest.h>

#include <cstring>
#include <vector>

using namespace hcasim::device;

namespace {

std::vector<uint8_t> frame(uint32_t n) {
    std::vector<uint8_t> f(64, 0);
    std::memcpy(f.data() + 20, &n, sizeof(n));
    return f;
}
uint32_t number(const std::vector<uint8_t>& f) {
    uint32_t n = 0;
    std::memcpy(&n, f.data() + 20, sizeof(n));
    return n;
}

std::vector<std::vector<uint8_t>> run(const WireFaultConfig& cfg, uint32_t count) {
    WireFaults w(cfg);
    std::vector<std::vector<uint8_t>> out;
    auto sink = [&](const std::vector<uint8_t>& f) { out.push_back(f); };
    for (uint32_t i = 0; i < count; ++i) w.submit(frame(i), i * 1000, sink);
    w.poll(~0ull, sink);
    return out;
}

}  // namespace

TEST_CASE("no faults: every frame once, in order") {
    auto out = run({}, 100);
    REQUIRE(out.size() == 100);
    for (uint32_t i = 0; i < 100; ++i) CHECK(number(out[i]) == i);
}

TEST_CASE("loss and duplication happen at about their rates, the same way for the same seed") {
    WireFaultConfig cfg;
    cfg.loss = 0.1;
    cfg.duplicate = 0.05;
    cfg.seed = 42;
    WireFaults w(cfg);
    size_t sent = 0;
    for (uint32_t i = 0; i < 20000; ++i) w.submit(frame(i), 0, [&](const auto&) { ++sent; });
    const auto& s = w.stats();
    CHECK(s.frames == 20000);
    CHECK(s.lost > 1800);
    CHECK(s.lost < 2200);
    CHECK(s.duplicated > 800);
    CHECK(s.duplicated < 1100);
    CHECK(sent == 20000 - s.lost + s.duplicated);
    auto a = run(cfg, 500), b = run(cfg, 500);
    CHECK(a == b);
    cfg.seed = 43;
    CHECK(run(cfg, 500) != a);
}

TEST_CASE("a reordered frame goes out after the next one, or after its hold time") {
    WireFaultConfig cfg;
    cfg.reorder = 1.0;  // every frame that can be held is held
    WireFaults w(cfg);
    std::vector<uint32_t> order;
    auto sink = [&](const std::vector<uint8_t>& f) { order.push_back(number(f)); };
    w.submit(frame(0), 0, sink);
    CHECK(order.empty());
    CHECK(w.next_deadline() == cfg.reorder_hold_ns);
    w.submit(frame(1), 10, sink);  // 1 goes out, then the held 0
    CHECK(order == std::vector<uint32_t>{1, 0});
    w.submit(frame(2), 20, sink);  // held again
    w.poll(20 + cfg.reorder_hold_ns - 1, sink);
    CHECK(order.size() == 2);
    w.poll(20 + cfg.reorder_hold_ns, sink);
    CHECK(order == std::vector<uint32_t>{1, 0, 2});
    CHECK(w.next_deadline() == 0);
}

TEST_CASE("a delay holds every frame for its time and keeps their order") {
    WireFaultConfig cfg;
    cfg.delay_ns = 5000;
    WireFaults w(cfg);
    std::vector<uint32_t> order;
    auto sink = [&](const std::vector<uint8_t>& f) { order.push_back(number(f)); };
    for (uint32_t i = 0; i < 4; ++i) w.submit(frame(i), i * 1000, sink);
    CHECK(order.empty());
    CHECK(w.next_deadline() == 5000);
    w.poll(6999, sink);
    CHECK(order == std::vector<uint32_t>{0, 1});
    w.poll(8000, sink);
    CHECK(order == std::vector<uint32_t>{0, 1, 2, 3});
}

TEST_CASE("corruption flips exactly one bit, never in the Ethernet header") {
    WireFaultConfig cfg;
    cfg.corrupt = 1.0;
    auto out = run(cfg, 200);
    REQUIRE(out.size() == 200);
    for (uint32_t i = 0; i < 200; ++i) {
        const auto orig = frame(i);
        int bits = 0;
        for (size_t b = 0; b < orig.size(); ++b) {
            const uint8_t x = orig[b] ^ out[i][b];
            if (x) CHECK(b >= 14);
            bits += __builtin_popcount(x);
        }
        CHECK(bits == 1);
    }
}

TEST_CASE("the spec parser takes every fault and rejects the rest") {
    WireFaultConfig cfg;
    CHECK(parse_wire_faults("loss=0.01,dup=0.002,reorder=0.03,corrupt=0.004,delay-us=50,seed=9", cfg) == "");
    CHECK(cfg.loss == doctest::Approx(0.01));
    CHECK(cfg.duplicate == doctest::Approx(0.002));
    CHECK(cfg.reorder == doctest::Approx(0.03));
    CHECK(cfg.corrupt == doctest::Approx(0.004));
    CHECK(cfg.delay_ns == 50000);
    CHECK(cfg.seed == 9);
    CHECK(cfg.any());
    for (const char* bad : {"loss=2", "loss=-0.1", "loss=", "loss", "jitter=1", "seed=x", "delay-us=1e3",
                            "loss=0.1,", ",loss=0.1", "delay-us=99999999"}) {
        WireFaultConfig c;
        CHECK_MESSAGE(parse_wire_faults(bad, c) != "", bad);
    }
    WireFaultConfig none;
    CHECK_FALSE(none.any());
}
