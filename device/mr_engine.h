// The memory-region engine: every DMA the device performs on behalf of a
// work request goes through an lkey/rkey.  It checks the key, the access
// right (local or remote write), the bounds of the region, translates the
// virtual address through the MTT (or into MEMIC), performs the bounds-
// checked DMA, and tags the write with the region's TPH hint, counting it.
//
// The RDMA data path (later) calls this; today the firmware's unit tests
// and the inspection interface drive it.
#pragma once

#include "device/dma_space.h"
#include "device/dmah_table.h"
#include "device/mkey_table.h"
#include "device/tph.h"

#include <functional>

namespace hcasim::device {

enum class MrError {
    None,
    BadKey,    // no such mkey (or not in the expected PD)
    Access,    // the region lacks the needed access right
    Bounds,    // [addr, addr+len) not inside the region
    Dma,       // the DMA itself failed (page outside guest memory)
};
const char* to_string(MrError e);

struct MrEngine {
    DmaSpace& dma;
    uint8_t* memic;
    uint64_t memic_size;
    MkeyTable& mkeys;
    DmahTable& dmahs;
    std::function<TphConfig()> tph;
    std::function<uint8_t*(uint64_t addr, uint64_t len)> icm;  // SW ICM memory

    // Writes len bytes at virtual address addr of region `key`.  remote:
    // an RDMA WRITE (needs REMOTE_WRITE) rather than a local write such as
    // a receive or a completion (needs LOCAL_WRITE).  *tag gets the hint
    // the write carried.
    MrError write(uint32_t key, uint64_t addr, const void* src, size_t len, bool remote,
                  TphTag* tag = nullptr);

    // The hint a write through this mkey carries now.
    TphTag tag_for(const Mkey& m) const;
};

}  // namespace hcasim::device
