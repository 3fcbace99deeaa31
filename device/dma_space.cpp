// DMA space (see dma_space.h).
#include "device/dma_space.h"

#include <sys/mman.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace hcasim::device {

int DmaSpace::map(uint64_t addr, uint64_t size, uint32_t prot, UniqueFd fd, uint64_t offset) {
    if (size == 0 || addr + size < addr || (prot & ~(kRead | kWrite))) return EINVAL;
    if (maps_.size() >= kMaxMaps) return E2BIG;
    auto next = maps_.lower_bound(addr);
    if (next != maps_.end() && next->first < addr + size) return EEXIST;
    if (next != maps_.begin()) {
        auto prev = std::prev(next);
        if (prev->first + prev->second.size > addr) return EEXIST;
    }
    Map m{size, prot, nullptr, 0};
    if (fd) {
        struct stat st{};
        if (::fstat(fd.get(), &st) != 0) return errno;
        // Refuse a window past the end of the file: touching it would
        // SIGBUS the device.
        if (offset + size < offset || offset + size > static_cast<uint64_t>(st.st_size))
            return EINVAL;
        const long page = ::sysconf(_SC_PAGESIZE);
        const uint64_t aligned_off = offset & ~static_cast<uint64_t>(page - 1);
        const uint64_t lead = offset - aligned_off;
        int mprot = ((prot & kRead) ? PROT_READ : 0) | ((prot & kWrite) ? PROT_WRITE : 0);
        if (mprot == 0) mprot = PROT_NONE;
        void* p = ::mmap(nullptr, size + lead, mprot, MAP_SHARED, fd.get(),
                         static_cast<off_t>(aligned_off));
        if (p == MAP_FAILED) return errno;
        m.base = static_cast<uint8_t*>(p) + lead;
        m.mapped_len = size + lead;
    }
    maps_.emplace(addr, m);
    ++generation_;
    return 0;
}

static void unmap_one(uint8_t* base, size_t mapped_len, uint64_t size) {
    if (!base) return;
    uint8_t* start = base - (mapped_len - size);
    ::munmap(start, mapped_len);
}

int DmaSpace::unmap(uint64_t addr, uint64_t size) {
    auto it = maps_.find(addr);
    if (it == maps_.end() || it->second.size != size) return ENOENT;
    unmap_one(it->second.base, it->second.mapped_len, it->second.size);
    maps_.erase(it);
    ++generation_;
    return 0;
}

void DmaSpace::unmap_all() {
    for (auto& [addr, m] : maps_) unmap_one(m.base, m.mapped_len, m.size);
    maps_.clear();
    ++generation_;
}

uint8_t* DmaSpace::host_ptr(uint64_t addr, size_t len, uint32_t need) const {
    if (addr + len < addr) return nullptr;
    auto it = maps_.upper_bound(addr);
    if (it == maps_.begin()) return nullptr;
    --it;
    const Map& m = it->second;
    const uint64_t off = addr - it->first;
    if (!m.base || off >= m.size || len > m.size - off || (m.prot & need) != need) return nullptr;
    return m.base + off;
}

template <class Fn>
int DmaSpace::walk(uint64_t addr, size_t len, uint32_t need, Fn&& fn) const {
    if (addr + len < addr) return EFAULT;
    size_t done = 0;
    while (done < len) {
        const uint64_t cur = addr + done;
        auto it = maps_.upper_bound(cur);
        if (it == maps_.begin()) return EFAULT;
        --it;
        const uint64_t off = cur - it->first;
        if (off >= it->second.size) return EFAULT;
        if ((it->second.prot & need) != need) return EACCES;
        const size_t chunk = static_cast<size_t>(
            std::min<uint64_t>(len - done, it->second.size - off));
        if (int e = fn(it->second, off, chunk, done)) return e;
        done += chunk;
    }
    return 0;
}

int DmaSpace::read(uint64_t addr, void* dst, size_t len) const {
    auto* out = static_cast<uint8_t*>(dst);
    int e = walk(addr, len, kRead, [&](const Map& m, uint64_t off, size_t n, size_t done) {
        if (m.base) {
            std::memcpy(out + done, m.base + off, n);
            return 0;
        }
        return port_ ? port_->dma_read(addr + done, out + done, n) : EIO;
    });
    if (!e) bytes_read_ += len;
    return e;
}

int DmaSpace::write(uint64_t addr, const void* src, size_t len) {
    const auto* in = static_cast<const uint8_t*>(src);
    int e = walk(addr, len, kWrite, [&](const Map& m, uint64_t off, size_t n, size_t done) {
        if (m.base) {
            std::memcpy(m.base + off, in + done, n);
            return 0;
        }
        return port_ ? port_->dma_write(addr + done, in + done, n) : EIO;
    });
    if (!e) bytes_written_ += len;
    return e;
}

}  // namespace hcasim::device
