// FrameRing (link/frame_ring.h): the receive thread's ring of frames.
// Frames of every length come out in order and intact, across many wraps
// of the buffer, with the producer and the consumer on two threads; a full
// ring refuses a frame instead of overwriting one.
#include "link/frame_ring.h"

#include <doctest/doctest.h>

#include <cstring>
#include <thread>
#include <vector>

using hcasim::link::FrameRing;

namespace {

// The bytes of frame number i: its length and its contents follow from i.
size_t frame_len(uint32_t i, size_t max) { return (i * 2654435761u) % (max + 1); }
uint8_t frame_byte(uint32_t i, size_t k) { return static_cast<uint8_t>(i * 31 + k * 7); }

}  // namespace

TEST_CASE("FrameRing: a full ring refuses a frame; freed space is reused") {
    FrameRing ring(4096, 1000);  // room for a few frames of 1000 bytes
    size_t written = 0;
    while (uint8_t* slot = ring.reserve()) {
        std::memset(slot, static_cast<int>(written), 1000);
        ring.commit(1000);
        ++written;
        REQUIRE(written < 16);
    }
    CHECK(written >= 2);
    CHECK(written <= 4);
    const uint8_t* f = nullptr;
    size_t len = 0;
    for (size_t i = 0; i < written; ++i) {
        REQUIRE(ring.front(f, len));
        CHECK(len == 1000);
        CHECK(f[0] == static_cast<uint8_t>(i));
        CHECK(f[999] == static_cast<uint8_t>(i));
        ring.pop();
    }
    CHECK_FALSE(ring.front(f, len));
    CHECK(ring.empty());
    // Space is back: a frame fits again (after a wrap).
    REQUIRE(ring.reserve());
    ring.commit(0);
    REQUIRE(ring.front(f, len));
    CHECK(len == 0);
    ring.pop();
    CHECK(ring.empty());
}

TEST_CASE("FrameRing: 200000 frames of every length cross two threads in order, intact") {
    constexpr size_t kMax = 1500;
    constexpr uint32_t kFrames = 200000;
    FrameRing ring(64 * 1024, kMax);
    std::thread producer([&] {
        for (uint32_t i = 0; i < kFrames;) {
            uint8_t* slot = ring.reserve();
            if (!slot) {
                std::this_thread::yield();
                continue;
            }
            const size_t n = frame_len(i, kMax);
            for (size_t k = 0; k < n; ++k) slot[k] = frame_byte(i, k);
            ring.commit(n);
            ++i;
        }
    });
    uint32_t bad = 0;
    for (uint32_t i = 0; i < kFrames;) {
        const uint8_t* f = nullptr;
        size_t len = 0;
        if (!ring.front(f, len)) {
            std::this_thread::yield();
            continue;
        }
        if (len != frame_len(i, kMax)) ++bad;
        for (size_t k = 0; k < len && k < kMax; ++k)
            if (f[k] != frame_byte(i, k)) {
                ++bad;
                break;
            }
        ring.pop();
        ++i;
    }
    producer.join();
    CHECK(bad == 0);
    CHECK(ring.empty());
}
