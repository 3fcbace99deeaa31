// Page lists in command mailboxes: the bus addresses of a buffer's 4 KiB
// pages, held in DMA pages of HCASIM_MTT_PER_PAGE entries whose addresses
// follow a command's fixed input (CREATE_MKEY's MTT, every queue buffer).
#pragma once

#include "firmware/firmware_state.h"

#include <vector>

namespace hcasim::firmware {

// Reads the page list that follows the first `fixed` bytes of the input:
// start = byte 0 of the buffer within the first page (< 4096), length in
// bytes (> 0), num_pages / num_mtt_pages as the driver counted them.  On
// any inconsistency: BAD_PARAM with `bad_syndrome`; a list the device
// cannot read: BAD_PARAM with `fault_syndrome`.
CmdStatus read_page_list(FwState& fw, CmdContext& ctx, size_t fixed, uint64_t start, uint64_t length,
                         uint32_t num_pages, uint32_t num_mtt_pages, std::vector<uint64_t>& out,
                         uint32_t bad_syndrome, uint32_t fault_syndrome);

// A queue buffer (struct hcasim_queue_buf) of at least `need` bytes with
// an 8-byte aligned doorbell record, as a QueueRing.
CmdStatus read_queue_buf(FwState& fw, CmdContext& ctx, size_t fixed, const hcasim_queue_buf& qb,
                         uint64_t need, device::QueueRing& out);

}  // namespace hcasim::firmware
