// Memory-region engine (see mr_engine.h).
#include "device/mr_engine.h"

#include "abi/hcasim_abi.h"

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

Mkey* MrEngine::lookup(const MrAccess& a, uint64_t addr, uint64_t len, MrError& err) {
    Mkey* m = mkeys.find(a.key);
    if (!m || (a.pdn && m->pdn != a.pdn)) {
        err = MrError::BadKey;
        return nullptr;
    }
    if ((m->access & a.need) != a.need) {
        err = MrError::Access;
        return nullptr;
    }
    if (addr < m->iova || addr - m->iova > m->length || len > m->length - (addr - m->iova)) {
        err = MrError::Bounds;
        return nullptr;
    }
    err = MrError::None;
    return m;
}

MrError MrEngine::check(const MrAccess& a, uint64_t addr, uint64_t len) {
    MrError e;
    lookup(a, addr, len, e);
    return e;
}

template <class Fn>
MrError MrEngine::walk(Mkey& m, uint64_t addr, size_t len, Fn&& fn) {
    const uint64_t off = addr - m.iova;
    if (len == 0) return MrError::None;
    if (m.mode == HCASIM_MKEY_MODE_SW_ICM) {
        uint8_t* p = icm ? icm(m.start + off, len) : nullptr;
        if (!p) return MrError::Bounds;
        return fn(p, 0, 0, len) ? MrError::Dma : MrError::None;
    }
    if (m.mode == HCASIM_MKEY_MODE_MEMIC) {
        const uint64_t at = m.start + off;
        if (at > memic_size || len > memic_size - at) return MrError::Bounds;
        return fn(memic + at, 0, 0, len) ? MrError::Dma : MrError::None;
    }
    for (size_t done = 0; done < len;) {
        const uint64_t pos = m.start + off + done;
        const uint64_t page = pos / 4096, within = pos % 4096;
        if (page >= m.pages.size()) return MrError::Bounds;
        size_t n = static_cast<size_t>(std::min<uint64_t>(len - done, 4096 - within));
        const uint64_t bus = m.pages[page] + within;
        // Coalesce physically contiguous pages into one access.
        for (uint64_t p = page; done + n < len && p + 1 < m.pages.size() &&
                                m.pages[p + 1] == m.pages[p] + 4096;
             ++p)
            n += static_cast<size_t>(std::min<uint64_t>(len - done - n, 4096));
        uint8_t* host = dma.host_ptr(bus, n, DmaSpace::kRead | DmaSpace::kWrite);
        if (fn(host, bus, done, n)) return MrError::Dma;
        done += n;
    }
    return MrError::None;
}

void MrEngine::count(Mkey& m, bool write, size_t len, TphTag* tag_out) {
    const TphTag t = tag_for(m);
    if (write) {
        m.counters.dma_writes++;
        m.counters.bytes_written += len;
        if (t.present) m.counters.tagged_writes++;
    } else {
        m.counters.dma_reads++;
        m.counters.bytes_read += len;
        if (t.present) m.counters.tagged_reads++;
    }
    if (t.present) m.counters.last_tag = t;
    else if (write) m.counters.last_tag = t;
    if (tag_out) *tag_out = t;
}

MrError MrEngine::read(const MrAccess& a, uint64_t addr, void* dst, size_t len, TphTag* tag) {
    MrError e;
    Mkey* m = lookup(a, addr, len, e);
    if (!m) return e;
    auto* out = static_cast<uint8_t*>(dst);
    e = walk(*m, addr, len, [&](uint8_t* host, uint64_t bus, size_t done, size_t n) {
        if (host) {
            std::memcpy(out + done, host, n);
            return 0;
        }
        return dma.read(bus, out + done, n);
    });
    if (e == MrError::None) count(*m, false, len, tag);
    return e;
}

MrError MrEngine::write(const MrAccess& a, uint64_t addr, const void* src, size_t len,
                        TphTag* tag) {
    MrError e;
    Mkey* m = lookup(a, addr, len, e);
    if (!m) return e;
    const auto* in = static_cast<const uint8_t*>(src);
    e = walk(*m, addr, len, [&](uint8_t* host, uint64_t bus, size_t done, size_t n) {
        if (host) {
            std::memcpy(host, in + done, n);
            return 0;
        }
        return dma.write(bus, in + done, n);
    });
    if (e == MrError::None) count(*m, true, len, tag);
    return e;
}

const uint8_t* MrEngine::direct(const MrAccess& a, uint64_t addr, size_t len, bool write,
                               MrError* err, TphTag* tag) {
    Mkey* m = lookup(a, addr, len, *err);
    if (!m) return nullptr;
    const uint8_t* found = nullptr;
    int pieces = 0;
    *err = walk(*m, addr, len, [&](uint8_t* host, uint64_t, size_t, size_t) {
        found = host;
        ++pieces;
        return 0;
    });
    if (*err != MrError::None || pieces != 1 || !found) return nullptr;
    count(*m, write, len, tag);
    return found;
}

MrError MrEngine::atomic(const MrAccess& a, uint64_t addr, bool cas, uint64_t compare_add,
                         uint64_t swap, uint64_t* orig, TphTag* tag) {
    if (addr % 8) return MrError::Bounds;
    MrError e;
    Mkey* m = lookup(a, addr, 8, e);
    if (!m) return e;
    uint64_t old = 0;
    e = walk(*m, addr, 8, [&](uint8_t* host, uint64_t bus, size_t, size_t n) {
        if (n != 8) return EFAULT;
        if (host && reinterpret_cast<uintptr_t>(host) % 8 == 0) {
            auto* w = reinterpret_cast<uint64_t*>(host);
            if (cas) {
                old = compare_add;
                if (!__atomic_compare_exchange_n(w, &old, swap, false, __ATOMIC_SEQ_CST,
                                                 __ATOMIC_SEQ_CST)) {
                    // old now holds the current value
                } else {
                    old = compare_add;
                }
            } else {
                old = __atomic_fetch_add(w, compare_add, __ATOMIC_SEQ_CST);
            }
            return 0;
        }
        // Message-carried memory (host-direct): read-modify-write.
        if (int r = dma.read(bus, &old, 8)) return r;
        const uint64_t next = cas ? (old == compare_add ? swap : old) : old + compare_add;
        return next == old ? 0 : dma.write(bus, &next, 8);
    });
    if (e != MrError::None) return e;
    count(*m, true, 8, tag);
    if (orig) *orig = old;
    return MrError::None;
}

}  // namespace hcasim::device
