// Firmware state: the HCA's capabilities and the object tables that the
// command handlers act on.  One instance per HCA, owned by Firmware.
#pragma once

#include "device/dma_space.h"
#include "device/dmah_table.h"
#include "device/memic_allocator.h"
#include "device/mkey_table.h"
#include "device/mr_engine.h"
#include "device/engine.h"
#include "device/hcasim_format.h"
#include "device/object_table.h"
#include "device/pd.h"
#include "device/tph.h"
#include "abi/hcasim_abi.h"
#include "common/trace.h"

#include <cstdint>
#include <array>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>
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
    bool privileged = false;                 // may allocate SW ICM
    uint64_t memic_op_offset = 0;            // BAR2 offset of the op windows
    uint64_t memic_op_stride = 0;
    // SW ICM pools by hcasim_sw_icm_type: bytes, log2 granularity.
    std::array<uint64_t, 5> sw_icm_size{0, 1u << 20, 256u << 10, 256u << 10, 256u << 10};
    uint32_t log_sw_icm_granularity = 12;
    static uint64_t sw_icm_base(uint32_t type) { return uint64_t{type} << 40; }
    // Data path.
    device::EngineLimits limits;
    uint64_t uar_bar_offset = 0;             // BAR2 offset of the status page
};

// One SW ICM pool: device-internal memory, never CPU-mapped.
struct IcmPool {
    IcmPool(uint64_t size, uint64_t gran) : mem(size), alloc(size, gran, 40) {}
    std::vector<uint8_t> mem;
    device::MemicAllocator alloc;  // the same first-fit block allocator
};

struct FwState {
    FwState(const HcaCaps& c, uint8_t* memic, Tracer& t)
        : caps(c),
          pds("pd", c.max_pd),
          memic(c.memic_size, uint64_t{1} << c.log_memic_alloc_unit, c.log_max_memic_align),
          memic_base(memic),
          trace(t),
          mkeys(c.max_mkeys),
          dmahs(static_cast<uint16_t>(c.tph_st_entries)) {
        // An mkey leaving gives back its PD and DMA handle (create_mkey
        // took them).
        mkeys.set_cleanup([this](uint32_t, device::Mkey& m) {
            pds.put(m.pdn);
            if (m.dmah) dmahs.put(m.dmah);
        });
        for (uint32_t t = 1; t < icm.size(); ++t)
            icm[t] = std::make_unique<IcmPool>(c.sw_icm_size[t], uint64_t{1} << c.log_sw_icm_granularity);
    }

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
    std::array<std::unique_ptr<IcmPool>, 5> icm;   // by hcasim_sw_icm_type
    std::map<uint64_t, uint32_t> memic_ops;        // block (pool offset) -> op bits

    // Device memory behind an ICM range, or nullptr if not inside a pool.
    uint8_t* icm_at(uint64_t addr, uint64_t len) {
        for (uint32_t t = 1; t < icm.size(); ++t) {
            const uint64_t base = HcaCaps::sw_icm_base(t);
            if (addr >= base && addr - base <= icm[t]->mem.size() &&
                len <= icm[t]->mem.size() - (addr - base))
                return icm[t]->mem.data() + (addr - base);
        }
        return nullptr;
    }

    // The data path; created by the HCA once it knows its BARs
    // (attach_engine), nullptr before.  Its queues are in `format`
    // (hcasim's own layouts unless a test gives another).
    std::unique_ptr<device::RdmaEngine> engine;
    void attach_engine(device::Platform& platform, uint8_t* uar_area,
                       device::QueueFormat& format = device::hcasim_queue_format()) {
        engine = std::make_unique<device::RdmaEngine>(platform, format, uar_area, mr_engine(), pds,
                                                      caps.limits, trace);
    }

    // A validated mkey into the table, with the references it holds (its
    // PD; its DMA handle, which DEALLOC_DMAH then refuses).  nullopt when
    // the table is full.
    std::optional<uint32_t> create_mkey(device::Mkey m) {
        const uint32_t pdn = m.pdn, dmah = m.dmah;
        auto key = mkeys.insert(std::move(m));
        if (!key) return key;
        pds.get(pdn);
        if (dmah) dmahs.get(dmah);
        return key;
    }

    // The engine that performs DMA through mkeys (tags TPH, counts).
    device::MrEngine mr_engine() {
        static device::DmaSpace none;
        // tph is read at each access: the function sets it after the
        // engine (which keeps its own MrEngine) is attached.
        return {dma ? *dma : none, memic_base, memic.size(), mkeys, dmahs,
                [this] { return tph ? tph() : device::TphConfig{}; },
                [this](uint64_t a, uint64_t l) { return icm_at(a, l); }};
    }
};

// One command as a handler sees it.
struct CmdContext {
    uint32_t channel;                // command channel that sent it (owner)
    std::span<const uint8_t> in;     // input mailbox, header included
    std::span<uint8_t> out;          // output mailbox, zeroed, header included
    bool tracing = false;            // the trace is on: note() records
    std::string detail;              // "key=value ..." for the trace

    // Adds key=value text to the command's trace line; formats nothing
    // when tracing is off.
    template <class... Args>
    void note(fmt::format_string<Args...> f, Args&&... args) {
        if (!tracing) return;
        if (!detail.empty()) detail += ' ';
        fmt::format_to(std::back_inserter(detail), f, std::forward<Args>(args)...);
    }

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
