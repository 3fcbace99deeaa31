// Host-direct transport (see transport.h): this process is the vfio-user
// client.  The library's own DMA memory (command queues, mailboxes, MTT
// pages, queue rings, doorbell records, ibv_alloc_buf) is a memfd arena
// offered to the device with DMA_MAP, so the device reaches it with a
// memcpy and polls it without messages; the arena grows by more memfd
// chunks as needed.  BAR0 accesses are REGION_READ/REGION_WRITE messages,
// and BAR2 (MEMIC pool, UAR pages) is mmapped whole from the fd the device
// returns with its region info.
#include "verbs/transport.h"

#include "abi/hcasim_abi.h"
#include "verbs/vfio_user_client.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <vector>

namespace hcasim::verbs {

using namespace vfio_user;

namespace {

constexpr size_t kPage = 4096;
constexpr size_t kChunkPages = 1024;                   // arena chunks: 4 MiB at least
constexpr uint64_t kArenaIova = 0xfff0000000000000ull;  // above any user virtual address (MTTs use VAs)

class VfioUserTransport final : public Transport {
public:
    explicit VfioUserTransport(std::string path) : path_(std::move(path)) {}
    ~VfioUserTransport() override {
        if (bar2_) ::munmap(bar2_, bar2_len_);
        for (auto& c : chunks_) ::munmap(c.va, c.used.size() * kPage);
    }

    int open() {
        auto dma = [this](uint64_t addr, void* buf, size_t len, bool write) {
            return serve_dma(addr, buf, len, write);
        };
        if (int e = client_.connect(path_, dma)) return e;
        std::lock_guard lock(mu_);
        if (int e = add_chunk(kChunkPages)) return e;
        return map_bar2();
    }

    uint32_t read32(uint32_t off) override {
        uint32_t v = 0xffffffffu;
        client_.region_read(HCASIM_BAR_REGS, off, &v, 4);
        return v;
    }
    void write32(uint32_t off, uint32_t v) override {
        client_.region_write(HCASIM_BAR_REGS, off, &v, 4);
    }
    uint8_t* bar2() override { return bar2_; }
    size_t bar2_len() const override { return bar2_len_; }
    bool bar2_traps() const override { return false; }  // no VMM to trap stores

    int enable_bus_master() override {
        uint16_t cmd = 0;
        if (int e = client_.region_read(kRegionConfig, 4, &cmd, 2)) return e;
        cmd |= 0x6;
        return client_.region_write(kRegionConfig, 4, &cmd, 2);
    }

    int alloc_dma_page(DmaBuffer& out) override {
        DmaRegion r;
        if (int e = alloc_dma(kPage, r)) return e;
        out = {r.va, r.pages[0], kPage};
        return 0;
    }

    void free_dma_page(DmaBuffer& buf) override {
        if (buf.va) release_pages(buf.va, kPage);
        buf = {};
    }

    int alloc_dma(size_t len, DmaRegion& out) override {
        const size_t n = (len + kPage - 1) / kPage;
        if (n == 0) return EINVAL;
        std::lock_guard lock(mu_);
        for (size_t attempt = 0; attempt < 2; ++attempt) {
            for (auto& c : chunks_) {
                size_t run = 0;
                for (size_t i = 0; i < c.used.size(); ++i) {
                    run = c.used[i] ? 0 : run + 1;
                    if (run < n) continue;
                    const size_t first = i + 1 - n;
                    std::fill(c.used.begin() + first, c.used.begin() + i + 1, true);
                    out.va = c.va + first * kPage;
                    out.len = n * kPage;
                    out.pages.clear();
                    for (size_t p = 0; p < n; ++p) out.pages.push_back(c.iova + (first + p) * kPage);
                    std::memset(out.va, 0, out.len);
                    return 0;
                }
            }
            if (int e = add_chunk(std::max(n, kChunkPages))) return e;
        }
        return ENOMEM;
    }

    void free_dma(DmaRegion& r) override {
        if (r.va) release_pages(r.va, r.len);
        r = {};
    }

    // MSI-X vectors go to eventfds of ours (DEVICE_SET_IRQS with an fd);
    // freeing one sends the set without an fd, which stops it.
    int alloc_irq(int eventfd, unsigned& vector) override {
        std::lock_guard lock(irq_mu_);
        unsigned v = 0;
        while (v < HCASIM_MSIX_VECTORS && (irq_used_ >> v & 1)) ++v;
        if (v == HCASIM_MSIX_VECTORS) return ENOSPC;
        const int fds[1] = {eventfd};
        if (int e = set_irq(v, fds)) return e;
        irq_used_ |= uint64_t{1} << v;
        vector = v;
        return 0;
    }
    void free_irq(unsigned vector) override {
        std::lock_guard lock(irq_mu_);
        if (vector >= HCASIM_MSIX_VECTORS || !(irq_used_ >> vector & 1)) return;
        set_irq(vector, {});
        irq_used_ &= ~(uint64_t{1} << vector);
    }

    int config_read(uint32_t off, void* dst, uint32_t len) override {
        return client_.region_read(kRegionConfig, off, dst, len);
    }
    int config_write(uint32_t off, const void* src, uint32_t len) override {
        return client_.region_write(kRegionConfig, off, src, len);
    }

    // Host-direct: the bus address of a page is its virtual address
    // (identity IOVA).  The pages are pinned and offered to the device with
    // DMA_MAP without an fd, so device DMA to them arrives here as
    // DMA_READ/DMA_WRITE messages (serve_dma).  Windows are shared by
    // registrations that overlap and refcounted.  pin_mu_ orders pins and
    // unpins (held across DMA_MAP/UNMAP requests); win_mu_ only guards the
    // window map for the moment it is read or changed, because the reader
    // thread takes it to serve the device's DMA, and it must never wait for
    // a thread that waits for the reader (a DMA_MAP reply).
    int pin_pages(void* va, size_t len, std::vector<uint64_t>& pages) override {
        const uint64_t first = reinterpret_cast<uintptr_t>(va) & ~(kPage - 1);
        const uint64_t end = (reinterpret_cast<uintptr_t>(va) + len + kPage - 1) & ~(kPage - 1);
        if (arena_pages(first, end, pages)) return 0;  // already the device's
        if (::mlock(reinterpret_cast<void*>(first), end - first) != 0)
            return errno == ENOMEM ? ENOMEM : EFAULT;
        std::lock_guard pin_lock(pin_mu_);
        Pin pin{first, end, {}};
        uint64_t cur = first;
        int e = 0;
        while (cur < end && !e) {
            uint64_t gap_end = 0;
            {
                std::lock_guard lock(win_mu_);
                auto it = windows_.upper_bound(cur);
                if (it != windows_.begin() && std::prev(it)->second.end > cur) {
                    auto w = std::prev(it);  // already offered: share it
                    ++w->second.refs;
                    pin.windows.push_back(w->first);
                    cur = w->second.end;
                    continue;
                }
                gap_end = it == windows_.end() ? end : std::min(end, it->first);
                windows_[cur] = {gap_end, 1};  // served as soon as the device knows it
            }
            e = dma_map(cur, gap_end - cur);
            if (e) {
                std::lock_guard lock(win_mu_);
                windows_.erase(cur);
            } else {
                pin.windows.push_back(cur);
                cur = gap_end;
            }
        }
        if (e) {
            release(pin);
            ::munlock(reinterpret_cast<void*>(first), end - first);
            return e;
        }
        pins_.emplace(std::make_pair(first, end), pin);
        pages.clear();
        for (uint64_t p = first; p < end; p += kPage) pages.push_back(p);
        return 0;
    }
    void unpin_pages(void* va, size_t len) override {
        const uint64_t first = reinterpret_cast<uintptr_t>(va) & ~(kPage - 1);
        const uint64_t end = (reinterpret_cast<uintptr_t>(va) + len + kPage - 1) & ~(kPage - 1);
        std::vector<uint64_t> unused;
        if (arena_pages(first, end, unused)) return;
        {
            std::lock_guard pin_lock(pin_mu_);
            auto it = pins_.find({first, end});
            if (it != pins_.end()) {
                release(it->second);
                pins_.erase(it);
            }
        }
        ::munlock(reinterpret_cast<void*>(first), end - first);
    }

    std::string where() const override { return path_; }

private:
    struct Window {
        uint64_t end;
        int refs;
    };
    struct Pin {
        uint64_t first, end;
        std::vector<uint64_t> windows;  // window starts this pin holds
    };
    // One memfd of the arena, mapped here and offered to the device at iova.
    struct Chunk {
        uint8_t* va;
        uint64_t iova;
        std::vector<bool> used;  // per page
    };

    int set_irq(unsigned vector, std::span<const int> fds) {
        IrqSet set{sizeof(IrqSet), kIrqSetDataEventfd | kIrqSetActionTrigger, kIrqMsix, vector, 1};
        std::vector<uint8_t> payload;
        append(payload, set);
        Message rep;
        return client_.request(Command::DeviceSetIrqs, payload, rep, fds);
    }

    int dma_map(uint64_t addr, uint64_t size) {
        DmaMap map{sizeof(DmaMap), kDmaFlagRead | kDmaFlagWrite, 0, addr, size};
        std::vector<uint8_t> payload;
        append(payload, map);
        Message rep;
        return client_.request(Command::DmaMap, payload, rep);
    }

    void release(const Pin& pin) {  // pin_mu_ held
        for (uint64_t start : pin.windows) {
            uint64_t size = 0;
            {
                std::lock_guard lock(win_mu_);
                auto it = windows_.find(start);
                if (it == windows_.end() || --it->second.refs > 0) continue;
                size = it->second.end - start;
                windows_.erase(it);
            }
            DmaUnmap u{sizeof(DmaUnmap), 0, start, size};
            std::vector<uint8_t> payload;
            append(payload, u);
            Message rep;
            client_.request(Command::DmaUnmap, payload, rep);
        }
    }

    // The device's DMA to registered memory: only inside offered windows.
    int serve_dma(uint64_t addr, void* buf, size_t len, bool write) {
        std::lock_guard lock(win_mu_);
        auto it = windows_.upper_bound(addr);
        if (it == windows_.begin()) return EFAULT;
        --it;
        if (addr + len < addr || addr + len > it->second.end) return EFAULT;
        auto* p = reinterpret_cast<uint8_t*>(static_cast<uintptr_t>(addr));
        if (write) std::memcpy(p, buf, len);
        else std::memcpy(buf, p, len);
        return 0;
    }

    // Adds a chunk of `pages` pages to the arena (mu_ held).
    int add_chunk(size_t pages) {
        UniqueFd fd(::memfd_create("hcasim-dma", MFD_CLOEXEC));
        if (!fd) return errno;
        const size_t len = pages * kPage;
        if (::ftruncate(fd.get(), static_cast<off_t>(len)) != 0) return errno;
        void* p = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
        if (p == MAP_FAILED) return errno;
        DmaMap map{sizeof(DmaMap), kDmaFlagRead | kDmaFlagWrite, 0, next_iova_, len};
        std::vector<uint8_t> payload;
        append(payload, map);
        Message rep;
        const int fds[1] = {fd.get()};
        if (int e = client_.request(Command::DmaMap, payload, rep, fds)) {
            ::munmap(p, len);
            return e;
        }
        chunks_.push_back({static_cast<uint8_t*>(p), next_iova_, std::vector<bool>(pages, false)});
        next_iova_ += len;
        return 0;
    }

    void release_pages(void* va, size_t len) {
        std::lock_guard lock(mu_);
        auto* p = static_cast<uint8_t*>(va);
        for (auto& c : chunks_) {
            if (p < c.va || p >= c.va + c.used.size() * kPage) continue;
            const size_t first = static_cast<size_t>(p - c.va) / kPage;
            std::fill(c.used.begin() + first, c.used.begin() + first + len / kPage, false);
            return;
        }
    }

    // Pages [first, end) inside one arena chunk: their bus addresses.
    bool arena_pages(uint64_t first, uint64_t end, std::vector<uint64_t>& pages) {
        std::lock_guard lock(mu_);
        for (auto& c : chunks_) {
            const auto base = reinterpret_cast<uintptr_t>(c.va);
            if (first < base || end > base + c.used.size() * kPage) continue;
            pages.clear();
            for (uint64_t a = first; a < end; a += kPage) pages.push_back(c.iova + (a - base));
            return true;
        }
        return false;
    }

    int map_bar2() {
        RegionInfo req{sizeof(RegionInfo), 0, HCASIM_BAR_MEMIC, 0, 0, 0};
        std::vector<uint8_t> payload;
        append(payload, req);
        Message rep;
        if (int e = client_.request(Command::DeviceGetRegionInfo, payload, rep)) return e;
        RegionInfo info{};
        if (!read_at(std::span<const uint8_t>(rep.payload), 0, info)) return EIO;
        if (info.argsz > sizeof(RegionInfo)) {  // ask again with room for the caps
            req.argsz = info.argsz;
            payload.clear();
            append(payload, req);
            if (int e = client_.request(Command::DeviceGetRegionInfo, payload, rep)) return e;
            read_at(std::span<const uint8_t>(rep.payload), 0, info);
        }
        if (info.size == 0 || !(info.flags & kRegionFlagMmap) || rep.fds.empty())
            return 0;  // no BAR2 to map
        // Map all of BAR2 (pool, MEMIC op windows, UAR area) from the fd.
        // Only the sparse-mmap areas (the pool and the UAR pages) are ever
        // touched: the op windows must trap to the device, which a plain
        // mapping cannot do (bar2_traps() is false).
        const size_t len = info.size;
        void* m = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, rep.fds[0].get(),
                         static_cast<off_t>(info.offset));
        if (m == MAP_FAILED) return errno;
        bar2_ = static_cast<uint8_t*>(m);
        bar2_len_ = len;
        return 0;
    }

    std::string path_;
    std::mutex pin_mu_;  // pins and unpins, one at a time
    std::mutex win_mu_;  // windows_ (the reader thread serves DMA with it)
    std::map<uint64_t, Window> windows_;             // start -> window
    std::multimap<std::pair<uint64_t, uint64_t>, Pin> pins_;
    VfioUserClient client_;
    std::mutex irq_mu_;
    uint64_t irq_used_ = 0;  // MSI-X vectors handed out (bit per vector)
    std::mutex mu_;  // guards the arena
    std::vector<Chunk> chunks_;
    uint64_t next_iova_ = kArenaIova;
    uint8_t* bar2_ = nullptr;
    size_t bar2_len_ = 0;
};

}  // namespace

std::unique_ptr<Transport> open_vfio_user_transport(const std::string& socket_path) {
    auto t = std::make_unique<VfioUserTransport>(socket_path);
    if (int e = t->open()) {
        errno = e;
        return nullptr;
    }
    return t;
}

}  // namespace hcasim::verbs
