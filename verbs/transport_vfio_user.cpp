// Host-direct transport (see transport.h): this process is the vfio-user
// client.  DMA memory is a memfd arena offered to the device with DMA_MAP
// (so device DMA is a memcpy on the device side), BAR0 accesses are
// REGION_READ/REGION_WRITE messages, and BAR2 is mmapped from the fd the
// device returns with its region info.
#include "verbs/transport.h"

#include "abi/hcasim_abi.h"
#include "verbs/vfio_user_client.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <vector>

namespace hcasim::verbs {

using namespace vfio_user;

namespace {

constexpr size_t kPage = 4096;
constexpr size_t kArenaPages = 1024;                 // 4 MiB of DMA memory
constexpr uint64_t kArenaIova = 0xfff0000000000000ull;  // above any user virtual address (MTTs use VAs)

class VfioUserTransport final : public Transport {
public:
    explicit VfioUserTransport(std::string path) : path_(std::move(path)) {}
    ~VfioUserTransport() override {
        if (bar2_) ::munmap(bar2_, bar2_len_);  // the pool part of BAR2
        if (arena_) ::munmap(arena_, kArenaPages * kPage);
    }

    int open() {
        auto dma = [this](uint64_t addr, void* buf, size_t len, bool write) {
            return serve_dma(addr, buf, len, write);
        };
        if (int e = client_.connect(path_, dma)) return e;
        if (int e = map_arena()) return e;
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
    uint8_t* memic_base() override { return bar2_; }
    size_t memic_len() const override { return bar2_len_; }

    int enable_bus_master() override {
        uint16_t cmd = 0;
        if (int e = client_.region_read(kRegionConfig, 4, &cmd, 2)) return e;
        cmd |= 0x6;
        return client_.region_write(kRegionConfig, 4, &cmd, 2);
    }

    int alloc_dma_page(DmaBuffer& out) override {
        std::lock_guard lock(mu_);
        for (size_t i = 0; i < kArenaPages; ++i) {
            if (used_[i]) continue;
            used_[i] = true;
            auto* va = static_cast<uint8_t*>(arena_) + i * kPage;
            std::memset(va, 0, kPage);
            out = {va, kArenaIova + i * kPage, kPage};
            return 0;
        }
        return ENOMEM;
    }

    void free_dma_page(DmaBuffer& buf) override {
        std::lock_guard lock(mu_);
        if (buf.va) used_[(static_cast<uint8_t*>(buf.va) - static_cast<uint8_t*>(arena_)) / kPage] = false;
        buf = {};
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
    // registrations that overlap and refcounted.
    int pin_pages(void* va, size_t len, std::vector<uint64_t>& pages) override {
        const uint64_t first = reinterpret_cast<uintptr_t>(va) & ~(kPage - 1);
        const uint64_t end = (reinterpret_cast<uintptr_t>(va) + len + kPage - 1) & ~(kPage - 1);
        if (::mlock(reinterpret_cast<void*>(first), end - first) != 0)
            return errno == ENOMEM ? ENOMEM : EFAULT;
        std::lock_guard lock(win_mu_);
        Pin pin{first, end, {}};
        uint64_t cur = first;
        int e = 0;
        while (cur < end && !e) {
            auto it = windows_.upper_bound(cur);
            if (it != windows_.begin() && std::prev(it)->second.end > cur) {
                auto w = std::prev(it);  // already offered: share it
                ++w->second.refs;
                pin.windows.push_back(w->first);
                cur = w->second.end;
                continue;
            }
            const uint64_t gap_end = it == windows_.end() ? end : std::min(end, it->first);
            e = dma_map(cur, gap_end - cur);
            if (!e) {
                windows_[cur] = {gap_end, 1};
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
        {
            std::lock_guard lock(win_mu_);
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

    int dma_map(uint64_t addr, uint64_t size) {
        DmaMap map{sizeof(DmaMap), kDmaFlagRead | kDmaFlagWrite, 0, addr, size};
        std::vector<uint8_t> payload;
        append(payload, map);
        Message rep;
        return client_.request(Command::DmaMap, payload, rep);
    }

    void release(const Pin& pin) {  // win_mu_ held
        for (uint64_t start : pin.windows) {
            auto it = windows_.find(start);
            if (it == windows_.end() || --it->second.refs > 0) continue;
            DmaUnmap u{sizeof(DmaUnmap), 0, start, it->second.end - start};
            std::vector<uint8_t> payload;
            append(payload, u);
            Message rep;
            client_.request(Command::DmaUnmap, payload, rep);
            windows_.erase(it);
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

    int map_arena() {
        UniqueFd fd(::memfd_create("hcasim-dma", MFD_CLOEXEC));
        if (!fd) return errno;
        const size_t len = kArenaPages * kPage;
        if (::ftruncate(fd.get(), static_cast<off_t>(len)) != 0) return errno;
        void* p = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
        if (p == MAP_FAILED) return errno;
        arena_ = p;
        used_.assign(kArenaPages, false);
        DmaMap map{sizeof(DmaMap), kDmaFlagRead | kDmaFlagWrite, 0, kArenaIova, len};
        std::vector<uint8_t> payload;
        append(payload, map);
        Message rep;
        const int fds[1] = {fd.get()};
        return client_.request(Command::DmaMap, payload, rep, fds);
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
            return 0;  // no MEMIC window
        // Map only the sparse area at offset 0 (the pool): the rest of BAR2
        // must trap to the device, which a plain mapping cannot do.
        uint64_t len = info.size;
        SparseMmapCap cap{};
        SparseArea area{};
        const std::span<const uint8_t> p(rep.payload);
        if ((info.flags & kRegionFlagCaps) && read_at(p, info.cap_offset, cap) &&
            cap.header.id == kCapSparseMmap) {
            len = 0;
            for (uint32_t i = 0; i < cap.nr_areas; ++i)
                if (read_at(p, info.cap_offset + sizeof(cap) + i * sizeof(area), area) &&
                    area.offset == 0 && area.size <= info.size)
                    len = area.size;
        }
        if (len == 0) return 0;
        void* m = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, rep.fds[0].get(),
                         static_cast<off_t>(info.offset));
        if (m == MAP_FAILED) return errno;
        bar2_ = static_cast<uint8_t*>(m);
        bar2_len_ = len;
        return 0;
    }

    std::string path_;
    std::mutex win_mu_;
    std::map<uint64_t, Window> windows_;             // start -> window
    std::multimap<std::pair<uint64_t, uint64_t>, Pin> pins_;
    VfioUserClient client_;
    std::mutex mu_;
    void* arena_ = nullptr;
    std::vector<bool> used_;
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
