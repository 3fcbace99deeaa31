// Command queue engine: executes one entry of a command channel's queue.
// The entry, its input mailbox and its output mailbox are all reached by
// DMA (bounds-checked); a bad pointer or length ends the command with a
// delivery status instead of touching memory the device does not own.
#pragma once

#include "device/dma_space.h"
#include "firmware/firmware.h"

namespace hcasim::firmware {

// Runs entry `index` of the queue at `cmdq_addr` for `channel`.  Returns
// false if the entry itself could not be read or written back (the
// driver then never sees a completion; the fault is traced).
bool run_cmdq_entry(device::DmaSpace& dma, Firmware& fw, uint32_t channel,
                    uint64_t cmdq_addr, uint32_t index);

}  // namespace hcasim::firmware
