// Command queue engine (see command_queue.h).
#include "firmware/command_queue.h"

#include <atomic>
#include <chrono>
#include <vector>

namespace hcasim::firmware {

namespace {

uint8_t deliver(device::DmaSpace& dma, Firmware& fw, uint32_t channel,
                const hcasim_cmdq_entry& e) {
    if (e.type != HCASIM_CMD_TYPE_PCIE) return HCASIM_DELIVERY_BAD_TYPE;
    if (e.in_len < sizeof(hcasim_cmd_in_hdr) || e.in_len > HCASIM_CMD_MAX_MAILBOX ||
        e.out_len < sizeof(hcasim_cmd_out_hdr) || e.out_len > HCASIM_CMD_MAX_MAILBOX)
        return HCASIM_DELIVERY_BAD_LENGTH;
    std::vector<uint8_t> in(e.in_len), out(e.out_len);
    if (dma.read(e.in_ptr, in.data(), in.size()) != 0) return HCASIM_DELIVERY_BAD_IN_PTR;
    fw.execute(channel, in, out);
    if (dma.write(e.out_ptr, out.data(), out.size()) != 0) return HCASIM_DELIVERY_BAD_OUT_PTR;
    return HCASIM_DELIVERY_OK;
}

}  // namespace

bool run_cmdq_entry(device::DmaSpace& dma, Firmware& fw, uint32_t channel,
                    uint64_t cmdq_addr, uint32_t index) {
    Tracer& trace = fw.state().trace;
    const uint64_t addr = cmdq_addr + uint64_t{index % HCASIM_CMDQ_ENTRIES} * HCASIM_CMDQ_ENTRY_SIZE;
    hcasim_cmdq_entry e{};
    if (int err = dma.read(addr, &e, sizeof(e))) {
        trace::cmdq_dma_fault(trace, channel, index, addr, err);
        return false;
    }
    if (!(e.own & HCASIM_CMD_OWN_HW)) {
        trace::cmdq_spurious_doorbell(trace, channel, index);
        return true;
    }
    const auto t0 = std::chrono::steady_clock::now();
    e.delivery_status = deliver(dma, fw, channel, e);
    e.latency_ns = static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                             std::chrono::steady_clock::now() - t0)
                                             .count());
    if (e.delivery_status != HCASIM_DELIVERY_OK)
        trace::cmdq_delivery_error(trace, channel, index, e.delivery_status, e.in_ptr, e.out_ptr, e.in_len,
                                   e.out_len);
    // Everything but ownership first; ownership goes back to software last.
    if (dma.write(addr, &e, sizeof(e)) != 0) return false;
    std::atomic_thread_fence(std::memory_order_release);
    const uint8_t own = 0;
    return dma.write(addr + offsetof(hcasim_cmdq_entry, own), &own, 1) == 0;
}

}  // namespace hcasim::firmware
