// The dead transport (see transport.h): every operation fails with ENODEV.
#include "verbs/transport.h"

#include <cerrno>

namespace hcasim::verbs {

namespace {

class DeadTransport final : public Transport {
public:
    uint32_t read32(uint32_t) override { return 0xffffffffu; }  // what a gone PCI device reads
    void write32(uint32_t, uint32_t) override {}
    uint8_t* bar2() override { return nullptr; }
    size_t bar2_len() const override { return 0; }
    bool bar2_traps() const override { return false; }
    int enable_bus_master() override { return ENODEV; }
    int alloc_dma_page(DmaBuffer&) override { return ENODEV; }
    void free_dma_page(DmaBuffer& buf) override { buf = {}; }
    int alloc_dma(size_t, DmaRegion&) override { return ENODEV; }
    void free_dma(DmaRegion& r) override { r = {}; }
    int alloc_irq(int, unsigned&) override { return ENODEV; }
    void free_irq(unsigned) override {}
    int config_read(uint32_t, void*, uint32_t) override { return ENODEV; }
    int config_write(uint32_t, const void*, uint32_t) override { return ENODEV; }
    int pin_pages(void*, size_t, std::vector<uint64_t>&) override { return ENODEV; }
    void unpin_pages(void*, size_t) override {}
    std::string where() const override { return "(no device)"; }
};

}  // namespace

std::unique_ptr<Transport> make_dead_transport() { return std::make_unique<DeadTransport>(); }

}  // namespace hcasim::verbs
