// Host-direct transport (see transport.h): this process is the vfio-user
// client.  DMA memory is a memfd arena offered to the device with DMA_MAP
// (so device DMA is a memcpy on the device side), BAR0 accesses are
// REGION_READ/REGION_WRITE messages, and BAR2 is mmapped from the fd the
// device returns with its region info.
#include "verbs/transport.h"

#include "firmware/hcasim_abi.h"
#include "verbs/vfio_user_client.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
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
        if (bar2_) ::munmap(bar2_, bar2_len_);
        if (arena_) ::munmap(arena_, kArenaPages * kPage);
    }

    int open() {
        if (int e = client_.connect(path_)) return e;
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
    // (identity IOVA).  The pages are pinned; the device reaches them only
    // once the data path maps them (see docs/verbs.md).
    int pin_pages(void* va, size_t len, std::vector<uint64_t>& pages) override {
        const uintptr_t first = reinterpret_cast<uintptr_t>(va) & ~(kPage - 1);
        const uintptr_t end = (reinterpret_cast<uintptr_t>(va) + len + kPage - 1) & ~(kPage - 1);
        if (::mlock(reinterpret_cast<void*>(first), end - first) != 0)
            return errno == ENOMEM ? ENOMEM : EFAULT;
        pages.clear();
        for (uintptr_t p = first; p < end; p += kPage) pages.push_back(p);
        return 0;
    }
    void unpin_pages(void* va, size_t len) override {
        const uintptr_t first = reinterpret_cast<uintptr_t>(va) & ~(kPage - 1);
        const uintptr_t end = (reinterpret_cast<uintptr_t>(va) + len + kPage - 1) & ~(kPage - 1);
        ::munlock(reinterpret_cast<void*>(first), end - first);
    }

    std::string where() const override { return path_; }

private:
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
        void* p = ::mmap(nullptr, info.size, PROT_READ | PROT_WRITE, MAP_SHARED,
                         rep.fds[0].get(), static_cast<off_t>(info.offset));
        if (p == MAP_FAILED) return errno;
        bar2_ = static_cast<uint8_t*>(p);
        bar2_len_ = info.size;
        return 0;
    }

    std::string path_;
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
