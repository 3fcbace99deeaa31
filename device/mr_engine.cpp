// Memory-region engine (see mr_engine.h).
#include "device/mr_engine.h"

#include "firmware/hcasim_abi.h"

#include <cstring>

namespace hcasim::device {

const char* to_string(MrError e) {
    switch (e) {
    case MrError::None: return "ok";
    case MrError::BadKey: return "bad key";
    case MrError::Access: return "access";
    case MrError::Bounds: return "bounds";
    case MrError::Dma: return "dma";
    }
    return "?";
}

TphTag MrEngine::tag_for(const Mkey& m) const {
    TphTag t;
    if (m.dmah == 0) return t;  // no handle: no hint
    const Dmah* d = dmahs.find(m.dmah);
    if (!d) return t;
    const TphConfig cfg = tph ? tph() : TphConfig{};
    if (!cfg.enabled) return t;  // the driver has not enabled TPH
    t.present = true;
    t.ph = d->ph;
    t.mem_type = d->mem_type;
    if (d->has_st && d->st_index < cfg.st_table.size()) {
        t.has_st = true;
        t.st = cfg.st_table[d->st_index];  // as the driver programmed it
    }
    return t;
}

MrError MrEngine::write(uint32_t key, uint64_t addr, const void* src, size_t len, bool remote,
                        TphTag* tag_out) {
    Mkey* m = mkeys.find(key);
    if (!m) return MrError::BadKey;
    const uint32_t need = remote ? HCASIM_ACCESS_REMOTE_WRITE : HCASIM_ACCESS_LOCAL_WRITE;
    if (!(m->access & need)) return MrError::Access;
    if (addr < m->iova || addr - m->iova > m->length || len > m->length - (addr - m->iova))
        return MrError::Bounds;
    const uint64_t off = addr - m->iova;
    const auto* in = static_cast<const uint8_t*>(src);
    if (m->mode == HCASIM_MKEY_MODE_SW_ICM) {
        uint8_t* dst = icm ? icm(m->start + off, len) : nullptr;
        if (!dst) return MrError::Bounds;
        std::memcpy(dst, in, len);
    } else if (m->mode == HCASIM_MKEY_MODE_MEMIC) {
        const uint64_t dst = m->start + off;
        if (dst > memic_size || len > memic_size - dst) return MrError::Bounds;
        std::memcpy(memic + dst, in, len);
    } else {
        size_t done = 0;
        while (done < len) {
            const uint64_t pos = m->start + off + done;
            const uint64_t page = pos / 4096, within = pos % 4096;
            if (page >= m->pages.size()) return MrError::Bounds;
            const size_t n = static_cast<size_t>(std::min<uint64_t>(len - done, 4096 - within));
            if (dma.write(m->pages[page] + within, in + done, n) != 0) return MrError::Dma;
            done += n;
        }
    }
    const TphTag t = tag_for(*m);
    m->counters.dma_writes++;
    m->counters.bytes_written += len;
    if (t.present) m->counters.tagged_writes++;
    m->counters.last_tag = t;
    if (tag_out) *tag_out = t;
    return MrError::None;
}

}  // namespace hcasim::device
