// Transport: how the userspace driver reaches the HCA.  Two
// implementations sit behind this one interface:
//  - in-guest PCI (transport_pci.cpp): BARs through sysfs resourceN,
//    bus mastering through the sysfs config file, DMA addresses from
//    /proc/self/pagemap (DPDK-style userspace driver, no kernel module);
//  - host-direct (transport_vfio_user.cpp): the driver is itself the
//    vfio-user client of hcasim-device's socket, so the same programs run
//    with no VM.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace hcasim::verbs {

// A DMA-able buffer: pinned, page-aligned, contiguous in bus addresses.
struct DmaBuffer {
    void* va = nullptr;
    uint64_t iova = 0;  // bus address the device uses
    size_t len = 0;     // bytes
};

// Pinned, page-aligned, zeroed memory of the library's own (queues,
// doorbell records, ibv_alloc_buf): the bus address of each 4 KiB page.
struct DmaRegion {
    void* va = nullptr;
    size_t len = 0;               // bytes, a multiple of 4096
    std::vector<uint64_t> pages;  // bus address of each page
};

class Transport {
public:
    virtual ~Transport() = default;

    // BAR0 32-bit registers (byte offsets).
    virtual uint32_t read32(uint32_t offset) = 0;
    virtual void write32(uint32_t offset, uint32_t value) = 0;

    // BAR2 mapped whole into this process (MEMIC pool, MEMIC operation
    // windows, UAR pages); nullptr if absent.
    virtual uint8_t* bar2() = 0;
    virtual size_t bar2_len() const = 0;
    // Whether a store to BAR2 outside its mmap-able areas reaches the
    // device (a VMM traps it).  Host-direct has no VMM: false.
    virtual bool bar2_traps() const = 0;

    // Sets Memory Space + Bus Master in the PCI command register.
    // Returns 0 or errno.
    virtual int enable_bus_master() = 0;

    // One page (4096 bytes) of DMA-able memory, zeroed.  Returns 0 or
    // errno (ENOMEM, EPERM when bus addresses cannot be read).
    virtual int alloc_dma_page(DmaBuffer& out) = 0;
    virtual void free_dma_page(DmaBuffer& buf) = 0;

    // `len` bytes (rounded up to pages) of DMA-able memory, zeroed, that
    // the device reaches without help from this process (host-direct: the
    // fd-backed arena; in a guest: mlocked pages).  0 or errno.
    virtual int alloc_dma(size_t len, DmaRegion& out) = 0;
    virtual void free_dma(DmaRegion& region) = 0;

    // Interrupts: takes one of the function's MSI-X vectors (shared by the
    // process's contexts on this transport) and has the device signal
    // `eventfd` when it fires.  0 or errno: ENOSPC when none is free,
    // EOPNOTSUPP where this process cannot receive interrupts (in a guest,
    // until the interrupt path exists).
    virtual int alloc_irq(int eventfd, unsigned& vector) = 0;
    virtual void free_irq(unsigned vector) = 0;

    // PCI config space of the function (TPH programming).  0 or errno.
    virtual int config_read(uint32_t offset, void* dst, uint32_t len) = 0;
    virtual int config_write(uint32_t offset, const void* src, uint32_t len) = 0;

    // Pins [va, va+len) and returns the bus address of each 4 KiB page it
    // touches (the MTT).  Errors: ENOMEM/EPERM from mlock, EFAULT for an
    // unmapped range, EPERM when bus addresses cannot be read.
    virtual int pin_pages(void* va, size_t len, std::vector<uint64_t>& pages) = 0;
    virtual void unpin_pages(void* va, size_t len) = 0;

    // Human-readable location (sysfs dir or socket path).
    virtual std::string where() const = 0;
};

// A transport to nowhere: every operation fails with ENODEV.  A context
// whose device went away (or a forked child that cannot reach it) keeps
// one, so its verbs fail cleanly instead of dereferencing nothing.
std::unique_ptr<Transport> make_dead_transport();

// Opens the HCA at a sysfs PCI device directory.  nullptr + errno on error.
std::unique_ptr<Transport> open_pci_transport(const std::string& sysfs_dir);
// Connects to hcasim-device at a UNIX socket path.  nullptr + errno on error.
std::unique_ptr<Transport> open_vfio_user_transport(const std::string& socket_path);

}  // namespace hcasim::verbs
