// The memory-region engine: every DMA the device performs on behalf of a
// work request goes through an lkey or rkey.  It checks the key, the PD,
// the access right, the bounds of the region, translates the virtual
// address through the MTT (or into MEMIC / SW ICM), performs the
// bounds-checked DMA, and tags the access with the region's TPH hint,
// counting it per mkey.
//
// Source: IBTA vol 1 10.6 (memory protection: lkey/rkey, PD, access
// rights, bounds); mlx5 PRM mkey context (pcie_tph_en, PH, ST index).
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

// What an access through a key needs.
struct MrAccess {
    uint32_t key = 0;
    uint32_t pdn = 0;        // 0: any PD (inspection), else must match
    uint32_t need = 0;       // HCASIM_ACCESS_* bits required (0: local read)
};

struct MrEngine {
    DmaSpace& dma;
    uint8_t* memic;
    uint64_t memic_size;
    MkeyTable& mkeys;
    DmahTable& dmahs;
    std::function<TphConfig()> tph;
    std::function<uint8_t*(uint64_t addr, uint64_t len)> icm;  // SW ICM memory

    // Checks that [addr, addr+len) of the key may be accessed as `a` says,
    // without touching memory.
    MrError check(const MrAccess& a, uint64_t addr, uint64_t len);
    // Reads len bytes at virtual address addr of the region into dst.
    MrError read(const MrAccess& a, uint64_t addr, void* dst, size_t len, TphTag* tag = nullptr);
    // Writes len bytes from src at virtual address addr of the region.
    MrError write(const MrAccess& a, uint64_t addr, const void* src, size_t len,
                  TphTag* tag = nullptr);
    // An 8-byte atomic on the region (IBTA 9.4.5: compare-and-swap when
    // cas, else fetch-and-add); *orig gets the old value.  Atomic with
    // respect to the CPU when the word is in device-visible memory (guest
    // RAM through an fd, MEMIC).  addr must be 8-byte aligned (Bounds).
    MrError atomic(const MrAccess& a, uint64_t addr, bool cas, uint64_t compare_add,
                   uint64_t swap, uint64_t* orig, TphTag* tag = nullptr);

    // Legacy form used by the inspection interface: a local (LOCAL_WRITE)
    // or remote (REMOTE_WRITE) write in any PD.
    MrError write(uint32_t key, uint64_t addr, const void* src, size_t len, bool remote,
                  TphTag* tag = nullptr) {
        return write({key, 0, remote ? 0x02u : 0x01u}, addr, src, len, tag);
    }

    // The device's own pointer to [addr, addr+len) of the region when it is
    // contiguous in device-visible memory (so a packet can reference it
    // instead of copying it), after the same checks; counted as a read or
    // write.  nullptr with *err = None when the range is valid but not
    // contiguous.
    const uint8_t* direct(const MrAccess& a, uint64_t addr, size_t len, bool write, MrError* err,
                          TphTag* tag = nullptr);

    // The hint an access through this mkey carries now.
    TphTag tag_for(const Mkey& m) const;

private:
    Mkey* lookup(const MrAccess& a, uint64_t addr, uint64_t len, MrError& err);
    // Runs fn(host_ptr_or_null, bus_addr, offset_in_access, n) over the
    // region's backing for [addr, addr+len).
    template <class Fn>
    MrError walk(Mkey& m, uint64_t addr, size_t len, Fn&& fn);
    void count(Mkey& m, bool write, size_t len, TphTag* tag_out);
};

}  // namespace hcasim::device
