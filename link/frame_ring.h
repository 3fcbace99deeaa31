// FrameRing: a single-producer, single-consumer ring of variable-length
// frames in one byte buffer, without locks.  The port's receive thread
// (link/vde_link.h) writes the frames it takes off the link straight into
// the ring; the device loop reads them in order.
//
// Layout: records of [u32 length][u32 unused][frame bytes], each padded to
// 8 bytes.  A record never wraps: when the space left before the end of
// the buffer is too small for the largest frame the producer may write,
// it puts a wrap marker there and starts again at offset 0.  head (the
// producer's) and tail (the consumer's) count bytes since the start and
// never go back; head - tail is the number of bytes in use.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace hcasim::link {

class FrameRing {
public:
    static constexpr size_t kHeader = 8;

    // `capacity` bytes in all (rounded up to 8); `max_frame` is the most a
    // producer asks to write at once (reserve()).  capacity must be at
    // least 2 * (max_frame + kHeader).
    FrameRing(size_t capacity, size_t max_frame)
        : buf_((capacity + 7) & ~size_t{7}), max_frame_(max_frame) {}

    // ---- producer ---------------------------------------------------------
    // Room for one frame of up to max_frame bytes, or nullptr if the ring
    // is full.  Nothing is visible to the consumer before commit().
    uint8_t* reserve() {
        const size_t head = head_.load(std::memory_order_relaxed);
        const size_t tail = tail_.load(std::memory_order_acquire);
        const size_t pos = head % buf_.size();
        const size_t need = kHeader + round8(max_frame_);
        const size_t left = buf_.size() - pos;
        const size_t skip = left < need ? left : 0;
        if (buf_.size() - (head - tail) < skip + need) return nullptr;
        pending_skip_ = skip;
        return buf_.data() + (skip ? 0 : pos) + kHeader;
    }
    // Publishes the frame written at reserve()'s pointer (len <= max_frame).
    void commit(size_t len) {
        const size_t head = head_.load(std::memory_order_relaxed);
        const size_t pos = head % buf_.size();
        if (pending_skip_) put_u32(pos, kWrap);
        put_u32(pending_skip_ ? 0 : pos, static_cast<uint32_t>(len));
        head_.store(head + pending_skip_ + kHeader + round8(len), std::memory_order_release);
        pending_skip_ = 0;
    }

    // ---- consumer ---------------------------------------------------------
    // The oldest frame, or false if the ring is empty.
    bool front(const uint8_t*& frame, size_t& len) {
        size_t tail = tail_.load(std::memory_order_relaxed);
        const size_t head = head_.load(std::memory_order_acquire);
        if (tail == head) return false;
        size_t pos = tail % buf_.size();
        uint32_t n = get_u32(pos);
        if (n == kWrap) {
            tail += buf_.size() - pos;
            tail_.store(tail, std::memory_order_release);
            if (tail == head) return false;
            pos = 0;
            n = get_u32(0);
        }
        frame = buf_.data() + pos + kHeader;
        len = n;
        return true;
    }
    // Frees the frame front() returned.
    void pop() {
        const size_t tail = tail_.load(std::memory_order_relaxed);
        const uint32_t n = get_u32(tail % buf_.size());
        tail_.store(tail + kHeader + round8(n), std::memory_order_release);
    }

    // Either side: whether a frame waits (a hint when the other side runs).
    bool empty() const {
        return head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_acquire);
    }
    // Only while neither side runs: forget every frame.
    void clear() {
        head_.store(0);
        tail_.store(0);
        pending_skip_ = 0;
    }
    size_t capacity() const { return buf_.size(); }

private:
    static constexpr uint32_t kWrap = 0xffffffffu;
    static size_t round8(size_t n) { return (n + 7) & ~size_t{7}; }
    void put_u32(size_t pos, uint32_t v) { std::memcpy(buf_.data() + pos, &v, 4); }
    uint32_t get_u32(size_t pos) const {
        uint32_t v;
        std::memcpy(&v, buf_.data() + pos, 4);
        return v;
    }

    std::vector<uint8_t> buf_;
    size_t max_frame_;
    size_t pending_skip_ = 0;                   // producer only
    alignas(64) std::atomic<size_t> head_{0};   // written by the producer
    alignas(64) std::atomic<size_t> tail_{0};   // written by the consumer
};

}  // namespace hcasim::link
