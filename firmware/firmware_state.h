// Firmware state: the HCA's capabilities and the object tables that the
// command handlers act on.  One instance per HCA, owned by Firmware.
#pragma once

#include "device/dma_space.h"
#include "device/dmah_table.h"
#include "device/memic_allocator.h"
#include "device/mkey_table.h"
#include "device/mr_engine.h"
#include "device/pd_table.h"
#include "device/tph.h"
#include "firmware/hcasim_abi.h"
#include "firmware/trace.h"

#include <cstdint>
#include <cstring>
#include <functional>
#include <span>
#include <string>

namespace hcasim::firmware {

// What QUERY_HCA_CAP reports; fixed when the device process starts.
struct HcaCaps {
    uint64_t node_guid = 0x0002c9fffe000001ull;
    uint32_t max_pd = 1u << 16;
    uint64_t memic_size = 256 * 1024;        // bytes of MEMIC pool
    uint32_t log_memic_alloc_unit = 6;       // 64-byte units (mlx5 PRM)
    uint32_t log_max_memic_align = 21;       // 2 MiB
    uint64_t memic_bar_offset = 0;           // pool starts at BAR2 offset 0
    uint32_t caps = HCASIM_CAP_MEMIC | HCASIM_CAP_TPH;
    uint32_t max_mkeys = 1u << 16;
    uint32_t tph_st_entries = 64;            // ST table size (pcie/hca_function.h)
};

struct FwState {
    FwState(const HcaCaps& c, uint8_t* memic, Tracer& t)
        : caps(c),
          pds(c.max_pd),
          memic(c.memic_size, uint64_t{1} << c.log_memic_alloc_unit, c.log_max_memic_align),
          memic_base(memic),
          trace(t),
          mkeys(c.max_mkeys),
          dmahs(static_cast<uint16_t>(c.tph_st_entries)) {}

    HcaCaps caps;
    device::PdTable pds;
    device::MemicAllocator memic;
    uint8_t* memic_base;  // device view of the MEMIC pool (BAR2 memfd)
    Tracer& trace;
    device::MkeyTable mkeys;
    device::DmahTable dmahs;
    device::StPlatformMap st_map;             // platform CPU -> steering tag
    device::DmaSpace* dma = nullptr;          // host memory (MTT reads)
    std::function<device::TphConfig()> tph;   // the function's TPH state

    // The engine that performs DMA through mkeys (tags TPH, counts).
    device::MrEngine mr_engine() {
        static device::DmaSpace none;
        return {dma ? *dma : none, memic_base, memic.size(), mkeys, dmahs, tph};
    }
};

// One command as a handler sees it.
struct CmdContext {
    uint32_t channel;                // command channel that sent it (owner)
    std::span<const uint8_t> in;     // input mailbox, header included
    std::span<uint8_t> out;          // output mailbox, zeroed, header included
    std::string detail;              // "key=value ..." for the trace

    template <class T>
    T input() const {
        T v{};
        std::memcpy(&v, in.data(), std::min(sizeof(T), in.size()));
        return v;
    }
    template <class T>
    void output(const T& v) {
        std::memcpy(out.data(), &v, std::min(sizeof(T), out.size()));
    }
};

struct CmdStatus {
    uint8_t status = HCASIM_STATUS_OK;
    uint32_t syndrome = HCASIM_SYND_NONE;
};

inline constexpr CmdStatus kOk{};
inline constexpr CmdStatus fail(uint8_t status, uint32_t syndrome) { return {status, syndrome}; }

}  // namespace hcasim::firmware
