// Command channel (see command_channel.h).
#include "verbs/command_channel.h"

#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>

namespace hcasim::verbs {

namespace {

constexpr uint32_t kPidMask = 0x3fffff;  // Linux pid_max is at most 2^22

// A token unique to this context: pid in the low bits, a per-process
// sequence above it.
uint32_t make_token() {
    static std::atomic<uint32_t> seq{0};
    const uint32_t s = (seq.fetch_add(1) % 1023) + 1;
    return (static_cast<uint32_t>(::getpid()) & kPidMask) | (s << 22);
}

bool owner_is_dead(uint32_t token) {
    const pid_t pid = static_cast<pid_t>(token & kPidMask);
    return pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH;
}

}  // namespace

int CommandChannel::status_to_errno(uint8_t status) {
    switch (status) {
    case HCASIM_STATUS_OK: return 0;
    case HCASIM_STATUS_BAD_OP:
    case HCASIM_STATUS_BAD_PARAM:
    case HCASIM_STATUS_BAD_RESOURCE:
    case HCASIM_STATUS_BAD_RES_STATE: return EINVAL;
    case HCASIM_STATUS_RESOURCE_BUSY: return EBUSY;
    case HCASIM_STATUS_EXCEED_LIM:
    case HCASIM_STATUS_NO_RESOURCES: return ENOMEM;
    default: return EIO;
    }
}

int CommandChannel::open() {
    if (int e = t_.enable_bus_master()) return e;
    const uint32_t n = std::min<uint32_t>(t_.read32(HCASIM_REG_NUM_CHANNELS), HCASIM_NUM_CHANNELS);
    token_ = make_token();
    for (uint32_t ch = 0; ch < n && ch_ == UINT32_MAX; ++ch) {
        const uint32_t reg = HCASIM_CHANNEL_REG(ch, HCASIM_CH_OWNER);
        uint32_t owner = t_.read32(reg);
        if (owner != 0 && owner_is_dead(owner)) {
            t_.write32(reg, 0);  // reclaim a dead process's channel + objects
            owner = t_.read32(reg);
        }
        if (owner != 0) continue;
        t_.write32(reg, token_);
        if (t_.read32(reg) == token_) ch_ = ch;
    }
    if (ch_ == UINT32_MAX) return EBUSY;
    int e = t_.alloc_dma_page(cmdq_);
    if (!e) e = t_.alloc_dma_page(in_);
    if (!e) e = t_.alloc_dma_page(out_);
    if (e) {
        close();
        return e;
    }
    t_.write32(HCASIM_CHANNEL_REG(ch_, HCASIM_CH_CMDQ_ADDR_LO), static_cast<uint32_t>(cmdq_.iova));
    t_.write32(HCASIM_CHANNEL_REG(ch_, HCASIM_CH_CMDQ_ADDR_HI),
               static_cast<uint32_t>(cmdq_.iova >> 32));
    return 0;
}

void CommandChannel::set_uar(volatile hcasim_uar* uar, const volatile hcasim_status_page* status) {
    std::lock_guard lock(mu_);
    if (ch_ == UINT32_MAX) return;
    // The page may hold the previous owner's cmd_pi: restart both sides at
    // 0 (writing the queue address resets the device's consumer index).
    __atomic_store_n(&uar->cmd_pi, 0u, __ATOMIC_RELEASE);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    pi_ = 0;
    t_.write32(HCASIM_CHANNEL_REG(ch_, HCASIM_CH_CMDQ_ADDR_LO), static_cast<uint32_t>(cmdq_.iova));
    t_.write32(HCASIM_CHANNEL_REG(ch_, HCASIM_CH_CMDQ_ADDR_HI),
               static_cast<uint32_t>(cmdq_.iova >> 32));
    uar_ = uar;
    status_ = status;
}

void CommandChannel::close() {
    if (ch_ != UINT32_MAX) {
        t_.write32(HCASIM_CHANNEL_REG(ch_, HCASIM_CH_OWNER), 0);
        ch_ = UINT32_MAX;
    }
    t_.free_dma_page(cmdq_);
    t_.free_dma_page(in_);
    t_.free_dma_page(out_);
}

int CommandChannel::exec(const void* in, size_t in_len, void* out, size_t out_len,
                         CmdResult& res) {
    if (in_len > HCASIM_CMD_MAX_MAILBOX || out_len > HCASIM_CMD_MAX_MAILBOX ||
        out_len < sizeof(hcasim_cmd_out_hdr))
        return EINVAL;
    std::lock_guard lock(mu_);
    if (ch_ == UINT32_MAX) return ENODEV;
    const uint32_t pi = pi_++;
    const uint32_t idx = pi % HCASIM_CMDQ_ENTRIES;
    auto* entry = reinterpret_cast<hcasim_cmdq_entry*>(static_cast<uint8_t*>(cmdq_.va) +
                                                       idx * HCASIM_CMDQ_ENTRY_SIZE);
    std::memcpy(in_.va, in, in_len);
    std::memset(out_.va, 0, out_len);
    hcasim_cmdq_entry e{};
    e.type = HCASIM_CMD_TYPE_PCIE;
    e.in_len = static_cast<uint32_t>(in_len);
    e.in_ptr = in_.iova;
    e.out_ptr = out_.iova;
    e.out_len = static_cast<uint32_t>(out_len);
    e.token = static_cast<uint8_t>(idx);
    e.own = 0;
    std::memcpy(entry, &e, sizeof(e));
    auto* own = reinterpret_cast<volatile uint8_t*>(&entry->own);
    std::atomic_thread_fence(std::memory_order_release);
    *own = HCASIM_CMD_OWN_HW;
    // Hand entries [ci, pi + 1) to the device, then kick it if it sleeps.
    // Before the UAR page is known (QUERY_HCA_CAP) the entry goes through
    // the trapped DOORBELL register, which runs it at once.
    std::atomic_thread_fence(std::memory_order_release);
    if (uar_) {
        __atomic_store_n(&uar_->cmd_pi, pi + 1, __ATOMIC_RELEASE);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (!status_ || status_->device_state == HCASIM_DEVSTATE_IDLE)
            t_.write32(HCASIM_REG_WAKE, uar_index());
    } else {
        t_.write32(HCASIM_CHANNEL_REG(ch_, HCASIM_CH_DOORBELL), idx);
    }

    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (unsigned spin = 0; *own & HCASIM_CMD_OWN_HW; ++spin) {
        if (spin > 1000) {
            if (std::chrono::steady_clock::now() > deadline) return ETIMEDOUT;
            ::sched_yield();
        }
    }
    std::atomic_thread_fence(std::memory_order_acquire);
    std::memcpy(&e, entry, sizeof(e));
    if (e.delivery_status != HCASIM_DELIVERY_OK) return EIO;
    std::memcpy(out, out_.va, out_len);
    hcasim_cmd_out_hdr oh{};
    std::memcpy(&oh, out, sizeof(oh));
    res.status = oh.status;
    res.syndrome = oh.syndrome;
    return 0;
}

}  // namespace hcasim::verbs
