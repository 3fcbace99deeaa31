// Queue memory through a page list (see queue_ring.h).
#include "device/queue_ring.h"

#include <atomic>
#include <cerrno>
#include <cstring>

namespace hcasim::device {

namespace {
constexpr uint64_t kPage = 4096;
}

uint8_t* QueueRing::page_ptr(DmaSpace& dma, size_t page) {
    if (gen_ != dma.generation()) {
        host_.assign(pages_.size(), nullptr);
        dbrec_host_ = nullptr;
        for (size_t i = 0; i < pages_.size(); ++i)
            host_[i] = dma.host_ptr(pages_[i], kPage, DmaSpace::kRead | DmaSpace::kWrite);
        if (dbrec_ % 8 == 0)
            dbrec_host_ = reinterpret_cast<uint32_t*>(
                dma.host_ptr(dbrec_, 8, DmaSpace::kRead | DmaSpace::kWrite));
        gen_ = dma.generation();
    }
    return page < host_.size() ? host_[page] : nullptr;
}

uint32_t* QueueRing::dbrec_ptr(DmaSpace& dma) {
    page_ptr(dma, 0);  // refreshes the cache
    return dbrec_host_;
}

// Calls fn(host_ptr_or_null, bus_addr, done, n) for each page-sized piece
// of buffer bytes [off, off+len).
template <class Fn>
int QueueRing::walk(DmaSpace& dma, uint64_t off, size_t len, Fn&& fn) {
    if (off > length_ || len > length_ - off) return EFAULT;
    for (size_t done = 0; done < len;) {
        const uint64_t pos = page_offset_ + off + done;
        const size_t page = static_cast<size_t>(pos / kPage);
        const size_t within = static_cast<size_t>(pos % kPage);
        const size_t n = std::min<size_t>(len - done, kPage - within);
        if (page >= pages_.size()) return EFAULT;
        uint8_t* p = page_ptr(dma, page);
        if (fn(p ? p + within : nullptr, pages_[page] + within, done, n) != 0) return EFAULT;
        done += n;
    }
    return 0;
}

int QueueRing::read(DmaSpace& dma, uint64_t off, void* dst, size_t len) {
    auto* out = static_cast<uint8_t*>(dst);
    return walk(dma, off, len, [&](uint8_t* host, uint64_t bus, size_t done, size_t n) {
        if (!host) return dma.read(bus, out + done, n);
        std::memcpy(out + done, host, n);
        return 0;
    });
}

int QueueRing::write(DmaSpace& dma, uint64_t off, const void* src, size_t len) {
    const auto* in = static_cast<const uint8_t*>(src);
    return walk(dma, off, len, [&](uint8_t* host, uint64_t bus, size_t done, size_t n) {
        if (!host) return dma.write(bus, in + done, n);
        std::memcpy(host, in + done, n);
        return 0;
    });
}

int QueueRing::write_owned_entry(DmaSpace& dma, uint64_t off, const void* entry, size_t len) {
    if (len == 0) return EINVAL;
    if (int e = write(dma, off, entry, len - 1)) return e;
    std::atomic_thread_fence(std::memory_order_release);
    return write(dma, off + len - 1, static_cast<const uint8_t*>(entry) + len - 1, 1);
}

int QueueRing::dbrec_read(DmaSpace& dma, unsigned word, uint32_t& value) {
    if (word > 1) return EINVAL;
    if (uint32_t* p = dbrec_ptr(dma)) {
        value = __atomic_load_n(p + word, __ATOMIC_ACQUIRE);
        return 0;
    }
    return dma.read(dbrec_ + 4 * word, &value, 4) ? EFAULT : 0;
}

int QueueRing::dbrec_write(DmaSpace& dma, unsigned word, uint32_t value) {
    if (word > 1) return EINVAL;
    if (uint32_t* p = dbrec_ptr(dma)) {
        __atomic_store_n(p + word, value, __ATOMIC_RELEASE);
        return 0;
    }
    return dma.write(dbrec_ + 4 * word, &value, 4) ? EFAULT : 0;
}

}  // namespace hcasim::device
