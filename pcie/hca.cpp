// HCA core (see hca.h).
#include "pcie/hca.h"

#include "firmware/command_queue.h"

#include <sys/mman.h>

#include <atomic>
#include <bit>
#include <cstring>
#include <stdexcept>

namespace hcasim::pcie {

namespace {

uint64_t pool_span_for(uint64_t memic) { return (memic + 4095) & ~uint64_t{4095}; }

// BAR2: the pool, then one trapped window per MEMIC op, then the UAR area
// (status page + UAR pages).
uint64_t uar_offset_for(uint64_t memic) { return pool_span_for(memic) * (1 + HCASIM_MEMIC_NUM_OPS); }
uint64_t bar_size_for(uint64_t memic) {
    return std::bit_ceil(uar_offset_for(memic) + uint64_t{HCASIM_NUM_UARS + 1} * HCASIM_UAR_PAGE_SIZE);
}

firmware::HcaCaps caps_for(const HcaConfig& cfg) {
    firmware::HcaCaps caps;
    caps.memic_size = cfg.memic_size;
    if (cfg.memic_size == 0) caps.caps &= ~HCASIM_CAP_MEMIC;
    caps.privileged = cfg.privileged;
    caps.memic_op_offset = pool_span_for(cfg.memic_size);
    caps.memic_op_stride = pool_span_for(cfg.memic_size);
    caps.uar_bar_offset = uar_offset_for(cfg.memic_size);
    caps.node_guid = device::node_guid_from_mac(cfg.port.mac);
    return caps;
}

}  // namespace

Hca::Hca(const HcaConfig& cfg, Tracer& trace)
    : trace_(trace),
      pool_span_(pool_span_for(cfg.memic_size)),
      uar_offset_(uar_offset_for(cfg.memic_size)),
      memic_bar_size_(bar_size_for(cfg.memic_size)),
      memic_fd_(::memfd_create("hcasim-memic", MFD_CLOEXEC)),
      fw_(caps_for(cfg), nullptr, trace) {
    if (!memic_fd_) throw std::runtime_error("memfd_create failed");
    if (::ftruncate(memic_fd_.get(), static_cast<off_t>(memic_bar_size_)) != 0)
        throw std::runtime_error("ftruncate(memic) failed");
    void* p = ::mmap(nullptr, memic_bar_size_, PROT_READ | PROT_WRITE, MAP_SHARED,
                     memic_fd_.get(), 0);
    if (p == MAP_FAILED) throw std::runtime_error("mmap(memic) failed");
    memic_ = static_cast<uint8_t*>(p);
    fw_.state().memic_base = memic_;
    fw_.state().dma = &dma_;
    fw_.state().attach_engine(*this, memic_ + uar_offset_);
    loopback_ = std::make_unique<device::LoopbackPort>(engine());
    engine().set_port(cfg.port, loopback_.get());
    engine().set_trace_datapath(cfg.trace_datapath);
    set_polling(false);
}

void Hca::raise_msix(unsigned vector) {
    if (irq_ && vector < HCASIM_MSIX_VECTORS) irq_(vector);
}

void Hca::set_port_backend(device::PortBackend* backend) {
    engine().set_port(engine().port(), backend ? backend : loopback_.get());
    engine().port_changed();
}

Hca::~Hca() {
    if (memic_) ::munmap(memic_, memic_bar_size_);
}

uint32_t Hca::read_reg(uint32_t off) {
    if (off >= HCASIM_CHANNEL_BASE &&
        off < HCASIM_CHANNEL_BASE + HCASIM_NUM_CHANNELS * HCASIM_CHANNEL_STRIDE) {
        const uint32_t rel = off - HCASIM_CHANNEL_BASE;
        return read_channel(rel / HCASIM_CHANNEL_STRIDE, rel % HCASIM_CHANNEL_STRIDE);
    }
    const auto& caps = fw_.state().caps;
    switch (off) {
    case HCASIM_REG_FW_REV: return (HCASIM_FW_MAJOR << 16) | HCASIM_FW_MINOR;
    case HCASIM_REG_FW_REV_SUB: return HCASIM_FW_SUBMINOR;
    case HCASIM_REG_MAGIC: return HCASIM_MAGIC;
    case HCASIM_REG_ABI_VERSION: return HCASIM_ABI_VERSION;
    case HCASIM_REG_NUM_CHANNELS: return HCASIM_NUM_CHANNELS;
    case HCASIM_REG_CAPS: return caps.caps;
    case HCASIM_REG_MEMIC_SIZE_LO: return static_cast<uint32_t>(caps.memic_size);
    case HCASIM_REG_MEMIC_SIZE_HI: return static_cast<uint32_t>(caps.memic_size >> 32);
    case HCASIM_REG_HEALTH: return HCASIM_HEALTH_OK;
    case HCASIM_REG_HEALTH_SYND: return 0;
    case HCASIM_REG_READY: return 1;
    case HCASIM_REG_WAKE: return polling_ ? 1 : 0;
    default: return 0;
    }
}

void Hca::write_reg(uint32_t off, uint32_t value) {
    if (off >= HCASIM_CHANNEL_BASE &&
        off < HCASIM_CHANNEL_BASE + HCASIM_NUM_CHANNELS * HCASIM_CHANNEL_STRIDE) {
        const uint32_t rel = off - HCASIM_CHANNEL_BASE;
        write_channel(rel / HCASIM_CHANNEL_STRIDE, rel % HCASIM_CHANNEL_STRIDE, value);
        return;
    }
    if (off == HCASIM_REG_WAKE) {
        wake(value);
        return;
    }
    trace::bar0_write_ignored(trace_, off, value);
}

uint32_t Hca::read_channel(uint32_t ch, uint32_t reg) const {
    const Channel& c = channels_[ch];
    switch (reg) {
    case HCASIM_CH_CMDQ_ADDR_LO: return static_cast<uint32_t>(c.cmdq_addr);
    case HCASIM_CH_CMDQ_ADDR_HI: return static_cast<uint32_t>(c.cmdq_addr >> 32);
    case HCASIM_CH_OWNER: return c.owner;
    case HCASIM_CH_COMPLETED: return c.completed;
    case HCASIM_CH_MSIX_VECTOR: return c.msix_vector;
    default: return 0;
    }
}

void Hca::write_channel(uint32_t ch, uint32_t reg, uint32_t value) {
    Channel& c = channels_[ch];
    switch (reg) {
    case HCASIM_CH_CMDQ_ADDR_LO:
        c.cmdq_addr = (c.cmdq_addr & ~uint64_t{0xffffffff}) | (value & ~0xfffu);
        c.cmd_ci = 0;  // the queue restarts: both indexes at 0
        reinterpret_cast<hcasim_uar*>(memic_ + uar_offset_ + uint64_t{HCASIM_CHANNEL_UAR(ch)} *
                                                                 HCASIM_UAR_PAGE_SIZE)->cmd_pi = 0;
        break;
    case HCASIM_CH_CMDQ_ADDR_HI:
        c.cmdq_addr = (c.cmdq_addr & 0xffffffffu) | (uint64_t{value} << 32);
        break;
    case HCASIM_CH_DOORBELL: ring_legacy_doorbell(ch, value); break;
    case HCASIM_CH_OWNER:
        if (value == 0) {
            if (c.owner != 0) {
                trace::channel_release(trace_, ch, c.owner);
                fw_.release_channel(ch);
                engine().close_uar(HCASIM_CHANNEL_UAR(ch));
            }
            c = Channel{};
        } else if (c.owner == 0) {
            c.owner = value;
            engine().open_uar(HCASIM_CHANNEL_UAR(ch), ch);
            trace::channel_claim(trace_, ch, value);
        }
        break;
    case HCASIM_CH_MSIX_VECTOR: c.msix_vector = value; break;
    default:
        trace::bar0_write_ignored(trace_, HCASIM_CHANNEL_BASE + ch * HCASIM_CHANNEL_STRIDE + reg, value);
    }
}

// Runs the command entries [ci, cmd_pi) of a channel (cmd_pi from its UAR).
bool Hca::run_commands(uint32_t ch) {
    Channel& c = channels_[ch];
    if (c.owner == 0 || c.cmdq_addr == 0) return false;
    auto* uar = reinterpret_cast<hcasim_uar*>(memic_ + uar_offset_ +
                                              uint64_t{HCASIM_CHANNEL_UAR(ch)} * HCASIM_UAR_PAGE_SIZE);
    const uint32_t pi = __atomic_load_n(&uar->cmd_pi, __ATOMIC_ACQUIRE);
    if (pi == c.cmd_ci) return false;
    if (bus_master_ && !bus_master_()) {
        trace::doorbell_ignored(trace_, ch, "bus mastering disabled");
        c.cmd_ci = pi;
        return false;
    }
    if (pi - c.cmd_ci > HCASIM_CMDQ_ENTRIES) {
        trace::doorbell_beyond_ring(trace_, ch, pi, c.cmd_ci);
        c.cmd_ci = pi;  // a doorbell beyond the ring: skip, keep serving
        return false;
    }
    for (; c.cmd_ci != pi; ++c.cmd_ci) {
        if (firmware::run_cmdq_entry(dma_, fw_, ch, c.cmdq_addr, c.cmd_ci % HCASIM_CMDQ_ENTRIES)) {
            ++c.completed;
            if (irq_ && c.msix_vector < HCASIM_MSIX_VECTORS) irq_(c.msix_vector);
        }
        if (channels_[ch].owner == 0) break;  // the command released the channel
    }
    return true;
}

// ABI 1's trapped doorbell: run entry `index` now (drivers that do not
// publish cmd_pi in the channel's UAR).
void Hca::ring_legacy_doorbell(uint32_t ch, uint32_t index) {
    auto run = [this, ch, index] {
        Channel& c = channels_[ch];
        if (c.owner == 0 || c.cmdq_addr == 0 || (bus_master_ && !bus_master_())) {
            trace::doorbell_ignored(trace_, ch, "channel not set up or bus mastering off");
            return;
        }
        if (firmware::run_cmdq_entry(dma_, fw_, ch, c.cmdq_addr, index)) {
            ++c.completed;
            if (irq_ && c.msix_vector < HCASIM_MSIX_VECTORS) irq_(c.msix_vector);
        }
    };
    if (post_) post_(run);
    else run();
}

bool Hca::poll() {
    bool work = false;
    for (uint32_t ch = 0; ch < HCASIM_NUM_CHANNELS; ++ch)
        if (channels_[ch].owner) work |= run_commands(ch);
    if (!bus_master_ || bus_master_()) work |= engine().poll();
    return work;
}

void Hca::set_polling(bool on) {
    polling_ = on;
    auto* st = engine().status_page();
    __atomic_store_n(&st->device_state, on ? HCASIM_DEVSTATE_POLLING : HCASIM_DEVSTATE_IDLE,
                     __ATOMIC_SEQ_CST);
    if (on) __atomic_add_fetch(&st->wakeups, 1, __ATOMIC_RELAXED);
    std::atomic_thread_fence(std::memory_order_seq_cst);
}

// The trapped WAKE register: a driver saw the device IDLE after ringing a
// doorbell on `uar`.  The kick runs from the event loop, after the MMIO
// write has been answered.
void Hca::wake(uint32_t uar) {
    auto run = [this, uar] {
        if (!polling_) set_polling(true);
        if (uar >= HCASIM_CHANNEL_UAR(0) && uar < HCASIM_CHANNEL_UAR(HCASIM_NUM_CHANNELS))
            run_commands(uar - HCASIM_CHANNEL_UAR(0));
        engine().kick(uar);
    };
    if (post_) post_(run);
    else run();
}

int Hca::memic_op_access(uint64_t bar_off, std::span<uint8_t> data, bool write) {
    const size_t n = data.size();
    if (bar_off >= uar_offset_) {  // UAR area through a trapped access (host-direct)
        if (bar_off + n > uar_offset_ + uar_size()) return EINVAL;
        if (write) std::memcpy(memic_ + bar_off, data.data(), n);
        else std::memcpy(data.data(), memic_ + bar_off, n);
        return 0;
    }
    if ((n != 4 && n != 8) || (bar_off % n) || pool_span_ == 0 || bar_off < pool_span_) return EINVAL;
    const uint64_t op = (bar_off - pool_span_) / pool_span_;
    const uint64_t rel = (bar_off - pool_span_) % pool_span_;
    auto& fw = fw_.state();
    auto block = fw.memic.block_containing(rel);
    const bool enabled = block && op < HCASIM_MEMIC_NUM_OPS && rel + n <= block->start + block->length &&
                         (fw.memic_ops.count(block->start) && (fw.memic_ops[block->start] >> op) & 1);
    if (!enabled) {
        trace::memic_op_ignored(trace_, bar_off, op, write ? "write" : "read");
        if (!write) std::fill(data.begin(), data.end(), uint8_t{0});
        return 0;
    }
    uint8_t* cell = memic_ + rel;
    uint64_t old = 0, v = 0;
    std::memcpy(&old, cell, n);
    if (op == HCASIM_MEMIC_OP_ATOMIC_INC) {
        if (!write) {  // a read of the increment window returns the value
            std::memcpy(data.data(), &old, n);
            return 0;
        }
        std::memcpy(&v, data.data(), n);
        const uint64_t sum = old + v;
        std::memcpy(cell, &sum, n);
    } else {  // test-and-set: a read returns the old value and sets 1
        if (write) return 0;
        std::memcpy(data.data(), &old, n);
        const uint64_t one = 1;
        std::memcpy(cell, &one, n);
    }
    trace::memic_op(trace_, op, rel, n, old);
    return 0;
}

void Hca::reset() {
    channels_.fill(Channel{});
    fw_.reset();
    std::memset(memic_, 0, memic_bar_size_);
    set_polling(polling_);
}

}  // namespace hcasim::pcie
