// In-guest PCI transport (see transport.h): BAR0 and BAR2 are mmapped from
// sysfs resource0/resource2, bus mastering is set through the config file,
// and DMA pages are mlocked with their physical address read from
// /proc/self/pagemap (needs CAP_SYS_ADMIN).  The guest must keep mlocked
// pages in place (vm.compact_unevictable_allowed=0, docs/guest.md).
// Interrupts come through the guest module hcasim_irq, the only kernel
// code bound to the function: /dev/hcasim-irq-<PCI address> routes an
// MSI-X vector to an eventfd of ours (abi/hcasim_irq.h, docs/events.md).
#include "verbs/transport.h"

#include "abi/hcasim_abi.h"
#include "abi/hcasim_irq.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <vector>

namespace hcasim::verbs {

namespace {

constexpr size_t kPage = 4096;

class PciTransport final : public Transport {
public:
    explicit PciTransport(std::string dir) : dir_(std::move(dir)) {}
    ~PciTransport() override {
        if (bar0_) ::munmap(const_cast<uint32_t*>(bar0_), bar0_len_);
        if (bar2_) ::munmap(bar2_, bar2_len_);
        if (pagemap_ >= 0) ::close(pagemap_);
        if (irq_fd_ >= 0) ::close(irq_fd_);
    }

    int open() {
        if (int e = map_bar(HCASIM_BAR_REGS, reinterpret_cast<void**>(const_cast<uint32_t**>(&bar0_)), bar0_len_))
            return e;
        if (int e = map_bar(HCASIM_BAR_MEMIC, reinterpret_cast<void**>(&bar2_), bar2_len_)) {
            bar2_ = nullptr;  // MEMIC is optional
            bar2_len_ = 0;
            (void)e;
        }
        pagemap_ = ::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
        if (pagemap_ < 0) return errno;
        return 0;
    }

    uint32_t read32(uint32_t off) override {
        return off + 4 <= bar0_len_ ? bar0_[off / 4] : 0xffffffffu;
    }
    void write32(uint32_t off, uint32_t v) override {
        if (off + 4 <= bar0_len_) bar0_[off / 4] = v;
    }
    uint8_t* bar2() override { return bar2_; }
    size_t bar2_len() const override { return bar2_len_; }
    bool bar2_traps() const override { return true; }  // QEMU traps the unmapped pages

    int enable_bus_master() override {
        const std::string path = dir_ + "/config";
        int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
        if (fd < 0) return errno;
        uint16_t cmd = 0;
        int e = 0;
        if (::pread(fd, &cmd, 2, 4) != 2) e = EIO;
        cmd |= 0x6;  // Memory Space + Bus Master
        if (!e && ::pwrite(fd, &cmd, 2, 4) != 2) e = EIO;
        ::close(fd);
        return e;
    }

    int alloc_dma_page(DmaBuffer& out) override {
        DmaRegion r;
        if (int e = alloc_dma(kPage, r)) return e;
        out = {r.va, r.pages[0], kPage};
        return 0;
    }

    void free_dma_page(DmaBuffer& buf) override {
        if (buf.va) ::munmap(buf.va, buf.len);
        buf = {};
    }

    int alloc_dma(size_t len, DmaRegion& out) override {
        len = (len + kPage - 1) & ~(kPage - 1);
        if (len == 0) return EINVAL;
        void* p = ::mmap(nullptr, len, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        if (p == MAP_FAILED) return ENOMEM;
        // Keep the pages resident, out of fork's copy-on-write, and out of
        // khugepaged's collapsing (which would move them).
        if (::madvise(p, len, MADV_NOHUGEPAGE) != 0 || ::mlock(p, len) != 0 ||
            ::madvise(p, len, MADV_DONTFORK) != 0) {
            int e = errno;
            ::munmap(p, len);
            return e;
        }
        std::memset(p, 0, len);
        std::vector<uint64_t> pages;
        if (int e = translate(reinterpret_cast<uintptr_t>(p), len, pages)) {
            ::munmap(p, len);
            return e;
        }
        out = {p, len, std::move(pages)};
        return 0;
    }

    void free_dma(DmaRegion& r) override {
        if (r.va) ::munmap(r.va, r.len);
        r = {};
    }

    // An MSI-X vector of hcasim_irq's, bound to `eventfd` until free_irq
    // or this process's exit.  EOPNOTSUPP when the module is not loaded
    // (no device node), ENOSPC when every vector is bound.
    int alloc_irq(int eventfd, unsigned& vector) override {
        std::lock_guard lock(irq_mu_);
        if (irq_fd_ < 0) {
            const size_t slash = dir_.find_last_of('/');
            const std::string node =
                "/dev/" HCASIM_IRQ_DEV_PREFIX + dir_.substr(slash == std::string::npos ? 0 : slash + 1);
            irq_fd_ = ::open(node.c_str(), O_RDWR | O_CLOEXEC);
            if (irq_fd_ < 0) return errno == ENOENT ? EOPNOTSUPP : errno;
        }
        hcasim_irq_bind b{eventfd, 0};
        if (::ioctl(irq_fd_, HCASIM_IRQ_BIND, &b) != 0) return errno;
        vector = b.vector;
        return 0;
    }
    void free_irq(unsigned vector) override {
        std::lock_guard lock(irq_mu_);
        if (irq_fd_ < 0) return;
        hcasim_irq_bind b{-1, vector};
        ::ioctl(irq_fd_, HCASIM_IRQ_UNBIND, &b);
    }

    int config_read(uint32_t off, void* dst, uint32_t len) override {
        return config_io(off, dst, len, false);
    }
    int config_write(uint32_t off, const void* src, uint32_t len) override {
        return config_io(off, const_cast<void*>(src), len, true);
    }

    int pin_pages(void* va, size_t len, std::vector<uint64_t>& pages) override {
        const uintptr_t first = reinterpret_cast<uintptr_t>(va) & ~(kPage - 1);
        const uintptr_t end = (reinterpret_cast<uintptr_t>(va) + len + kPage - 1) & ~(kPage - 1);
        // mlock faults every page in and keeps it resident; the guest keeps
        // mlocked pages from migrating (docs/guest.md).
        if (::mlock(reinterpret_cast<void*>(first), end - first) != 0) return errno == ENOMEM ? ENOMEM : EFAULT;
        if (int e = translate(first, end - first, pages)) {
            ::munlock(reinterpret_cast<void*>(first), end - first);
            return e;
        }
        return 0;
    }
    void unpin_pages(void* va, size_t len) override {
        const uintptr_t first = reinterpret_cast<uintptr_t>(va) & ~(kPage - 1);
        const uintptr_t end = (reinterpret_cast<uintptr_t>(va) + len + kPage - 1) & ~(kPage - 1);
        ::munlock(reinterpret_cast<void*>(first), end - first);
    }

    std::string where() const override { return dir_; }

private:
    // Physical addresses of the resident pages [first, first + len).
    int translate(uintptr_t first, size_t len, std::vector<uint64_t>& pages) {
        pages.clear();
        std::vector<uint64_t> entries(len / kPage);
        const off_t at = static_cast<off_t>(first / kPage * 8);
        const ssize_t want = static_cast<ssize_t>(entries.size() * 8);
        if (::pread(pagemap_, entries.data(), static_cast<size_t>(want), at) != want) return EFAULT;
        for (uint64_t e : entries) {
            const uint64_t pfn = e & ((uint64_t{1} << 55) - 1);
            if (!(e >> 63) || pfn == 0) return EPERM;  // not present, or no CAP_SYS_ADMIN
            pages.push_back(pfn * kPage);
        }
        return 0;
    }

    int config_io(uint32_t off, void* buf, uint32_t len, bool write) {
        const std::string path = dir_ + "/config";
        int fd = ::open(path.c_str(), (write ? O_RDWR : O_RDONLY) | O_CLOEXEC);
        if (fd < 0) return errno;
        const ssize_t n = write ? ::pwrite(fd, buf, len, off) : ::pread(fd, buf, len, off);
        ::close(fd);
        return n == static_cast<ssize_t>(len) ? 0 : EIO;
    }

    int map_bar(int bar, void** out, size_t& len) {
        const std::string path = dir_ + "/resource" + std::to_string(bar);
        int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_SYNC);
        if (fd < 0) return errno;
        struct stat st{};
        if (::fstat(fd, &st) != 0 || st.st_size <= 0) {
            ::close(fd);
            return ENODEV;
        }
        void* p = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ | PROT_WRITE,
                         MAP_SHARED, fd, 0);
        int e = p == MAP_FAILED ? errno : 0;
        ::close(fd);
        if (e) return e;
        *out = p;
        len = static_cast<size_t>(st.st_size);
        return 0;
    }

    std::string dir_;
    volatile uint32_t* bar0_ = nullptr;
    size_t bar0_len_ = 0;
    uint8_t* bar2_ = nullptr;
    size_t bar2_len_ = 0;
    int pagemap_ = -1;
    std::mutex irq_mu_;
    int irq_fd_ = -1;  // /dev/hcasim-irq-<address>, opened on first use
};

}  // namespace

std::unique_ptr<Transport> open_pci_transport(const std::string& sysfs_dir) {
    auto t = std::make_unique<PciTransport>(sysfs_dir);
    if (int e = t->open()) {
        errno = e;
        return nullptr;
    }
    return t;
}

}  // namespace hcasim::verbs
