// libibverbs' helpers that involve no device: the enum strings tools print
// (ibv_wc_status_str(3), ibv_port_state_str, ibv_node_type_str,
// ibv_event_type_str, the private ibv_wr_opcode_str), static-rate
// conversions (ibv_rate_to_mult(3), ibv_rate_to_mbps(3) and their
// inverses), sysfs reading (ibv_get_sysfs_path, ibv_read_sysfs_file) and
// fork support (ibv_fork_init(3), ibv_is_fork_initialized(3),
// ibv_dontfork_range, ibv_dofork_range).  Strings and values are
// rdma-core's, so ibv_devinfo, the pingpong examples and perftest print
// what they print on rdma-core.
//
// Fork support is libibverbs' (libibverbs/memory.c): the pages the device
// reaches through an MR are only mlocked, not pinned by the kernel, so the
// kernel does not copy them at fork and a parent's write after fork()
// would move its page away from the device (copy-on-write).
// ibv_is_fork_initialized() is therefore never IBV_FORK_UNNEEDED.  After
// ibv_fork_init() every MR's range is MADV_DONTFORK while registered
// (reference-counted per page, as rdma-core's range tree); before it,
// registering an MR makes a later ibv_fork_init() too late (EINVAL).
// RDMAV_HUGEPAGES_SAFE makes the ranges whole pages of the mapping's own
// page size.  The library's own queue memory is MADV_DONTFORK always.
#include "verbs/provider.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <map>
#include <mutex>
#include <string>

namespace {

// {rate, multiple of 2.5 Gb/s (-1: none), Mb/s}
struct Rate {
    ibv_rate rate;
    int mult;
    int mbps;
};
constexpr Rate kRates[] = {
    {IBV_RATE_2_5_GBPS, 1, 2500},     {IBV_RATE_5_GBPS, 2, 5000},
    {IBV_RATE_10_GBPS, 4, 10000},     {IBV_RATE_20_GBPS, 8, 20000},
    {IBV_RATE_30_GBPS, 12, 30000},    {IBV_RATE_40_GBPS, 16, 40000},
    {IBV_RATE_60_GBPS, 24, 60000},    {IBV_RATE_80_GBPS, 32, 80000},
    {IBV_RATE_120_GBPS, 48, 120000},  {IBV_RATE_14_GBPS, -1, 14062},
    {IBV_RATE_56_GBPS, -1, 56250},    {IBV_RATE_112_GBPS, -1, 112500},
    {IBV_RATE_168_GBPS, -1, 168750},  {IBV_RATE_25_GBPS, -1, 25781},
    {IBV_RATE_100_GBPS, -1, 103125},  {IBV_RATE_200_GBPS, -1, 206250},
    {IBV_RATE_300_GBPS, -1, 309375},  {IBV_RATE_28_GBPS, 11, 28125},
    {IBV_RATE_50_GBPS, 20, 53125},    {IBV_RATE_400_GBPS, 160, 425000},
    {IBV_RATE_600_GBPS, 240, 637500}, {IBV_RATE_800_GBPS, 320, 850000},
    {IBV_RATE_1200_GBPS, 480, 1275000},
};

template <class Pred>
const Rate* find_rate(Pred p) {
    for (const Rate& r : kRates)
        if (p(r)) return &r;
    return nullptr;
}

// The KernelPageSize of the mapping holding `p` (/proc/self/smaps), or
// the base page size.
uintptr_t mapping_page_size(const void* p) {
    const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
    FILE* f = std::fopen("/proc/self/smaps", "re");
    if (!f) return page;
    const auto at = reinterpret_cast<uintptr_t>(p);
    uintptr_t size = page;
    bool inside = false;
    char line[512];
    while (std::fgets(line, sizeof(line), f)) {
        unsigned long lo = 0, hi = 0, kb = 0;
        if (std::sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {  // a mapping's first line
            inside = at >= lo && at < hi;
        } else if (inside && std::sscanf(line, "KernelPageSize: %lu kB", &kb) == 1) {
            size = kb * 1024;
            break;
        }
    }
    std::fclose(f);
    return size;
}

// libibverbs' fork state: whether ibv_fork_init() ran, whether it is too
// late for it, and how many registrations keep each page MADV_DONTFORK
// (a step function: key = first address of a run of pages with the same
// count; the runs cover the whole address space).
class ForkRanges {
public:
    int init() {
        std::lock_guard lock(mu_);
        if (std::getenv("RDMAV_HUGEPAGES_SAFE")) huge_ = true;
        if (enabled_) return 0;
        if (too_late_) return EINVAL;
        // madvise must know both advices (libibverbs checks it on a page).
        const auto page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
        void* probe = nullptr;
        if (::posix_memalign(&probe, page, page)) return ENOMEM;
        const bool ok = ::madvise(probe, page, MADV_DONTFORK) == 0 &&
                        ::madvise(probe, page, MADV_DOFORK) == 0;
        std::free(probe);
        if (!ok) return ENOSYS;
        enabled_ = true;
        return 0;
    }
    bool enabled() {
        std::lock_guard lock(mu_);
        return enabled_;
    }
    // +1 (MADV_DONTFORK when a page's count leaves 0) or -1 (MADV_DOFORK
    // when it reaches 0) over the pages of [base, base + size).  0, or -1
    // with errno (and nothing changed) when madvise refuses.
    int advise(void* base, size_t size, int inc) {
        std::lock_guard lock(mu_);
        if (!enabled_) {
            too_late_ = true;
            return 0;
        }
        if (!base || !size) return 0;
        const uintptr_t page =
            huge_ ? mapping_page_size(base) : static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
        const uintptr_t start = reinterpret_cast<uintptr_t>(base) & ~(page - 1);
        const uintptr_t end = (reinterpret_cast<uintptr_t>(base) + size + page - 1) & ~(page - 1);
        split(start);
        split(end);
        const int advice = inc > 0 ? MADV_DONTFORK : MADV_DOFORK;
        for (auto it = runs_.find(start); it->first < end; ++it) {
            const uintptr_t run_end = std::next(it)->first;
            if (inc > 0 && it->second == 0 && madv(it->first, run_end, advice) != 0) {
                const int e = errno;
                for (auto back = runs_.find(start); back != it; ++back)  // undo
                    if (--back->second == 0) madv(back->first, std::next(back)->first, MADV_DOFORK);
                merge(start, end);
                errno = e;
                return -1;
            }
            if (inc > 0) {
                ++it->second;
            } else if (it->second > 0 && --it->second == 0) {
                madv(it->first, run_end, advice);  // as libibverbs: a failed DOFORK is no error
            }
        }
        merge(start, end);
        return 0;
    }

private:
    static int madv(uintptr_t from, uintptr_t to, int advice) {
        return ::madvise(reinterpret_cast<void*>(from), to - from, advice);
    }
    // Makes `at` the start of a run.
    void split(uintptr_t at) {
        auto it = runs_.upper_bound(at);
        const int count = std::prev(it)->second;
        runs_.emplace_hint(it, at, count);
    }
    // Joins neighbouring runs with equal counts around [start, end].
    void merge(uintptr_t start, uintptr_t end) {
        auto it = runs_.find(start);
        if (it != runs_.begin()) --it;
        while (it != runs_.end()) {
            auto next = std::next(it);
            if (next == runs_.end() || it->first > end) break;
            if (next->second == it->second) runs_.erase(next);
            else it = next;
        }
    }

    std::mutex mu_;
    bool enabled_ = false;
    bool too_late_ = false;
    bool huge_ = false;
    std::map<uintptr_t, int> runs_{{0, 0}};
};

ForkRanges& fork_ranges() {
    static ForkRanges r;
    return r;
}

}  // namespace

HCASIM_EXPORT const char* ibv_node_type_str(ibv_node_type t) {
    switch (t) {
    case IBV_NODE_CA: return "InfiniBand channel adapter";
    case IBV_NODE_SWITCH: return "InfiniBand switch";
    case IBV_NODE_ROUTER: return "InfiniBand router";
    case IBV_NODE_RNIC: return "iWARP NIC";
    case IBV_NODE_USNIC: return "usNIC";
    case IBV_NODE_USNIC_UDP: return "usNIC UDP";
    case IBV_NODE_UNSPECIFIED: return "unspecified";
    default: return "unknown";
    }
}

HCASIM_EXPORT const char* ibv_port_state_str(ibv_port_state s) {
    switch (s) {
    case IBV_PORT_NOP: return "no state change (NOP)";
    case IBV_PORT_DOWN: return "down";
    case IBV_PORT_INIT: return "init";
    case IBV_PORT_ARMED: return "armed";
    case IBV_PORT_ACTIVE: return "active";
    case IBV_PORT_ACTIVE_DEFER: return "active defer";
    default: return "unknown";
    }
}

HCASIM_EXPORT const char* ibv_event_type_str(ibv_event_type e) {
    switch (e) {
    case IBV_EVENT_CQ_ERR: return "CQ error";
    case IBV_EVENT_QP_FATAL: return "local work queue catastrophic error";
    case IBV_EVENT_QP_REQ_ERR: return "invalid request local work queue error";
    case IBV_EVENT_QP_ACCESS_ERR: return "local access violation work queue error";
    case IBV_EVENT_COMM_EST: return "communication established";
    case IBV_EVENT_SQ_DRAINED: return "send queue drained";
    case IBV_EVENT_PATH_MIG: return "path migrated";
    case IBV_EVENT_PATH_MIG_ERR: return "path migration request error";
    case IBV_EVENT_DEVICE_FATAL: return "local catastrophic error";
    case IBV_EVENT_PORT_ACTIVE: return "port active";
    case IBV_EVENT_PORT_ERR: return "port error";
    case IBV_EVENT_LID_CHANGE: return "LID change";
    case IBV_EVENT_PKEY_CHANGE: return "P_Key change";
    case IBV_EVENT_SM_CHANGE: return "SM change";
    case IBV_EVENT_SRQ_ERR: return "SRQ catastrophic error";
    case IBV_EVENT_SRQ_LIMIT_REACHED: return "SRQ limit reached";
    case IBV_EVENT_QP_LAST_WQE_REACHED: return "last WQE reached";
    case IBV_EVENT_CLIENT_REREGISTER: return "client reregistration";
    case IBV_EVENT_GID_CHANGE: return "GID table change";
    case IBV_EVENT_WQ_FATAL: return "WQ fatal";
    case IBV_EVENT_DEVICE_SPEED_CHANGE: return "Device link speed change";
    default: return "unknown";
    }
}

HCASIM_EXPORT const char* ibv_wc_status_str(ibv_wc_status s) {
    switch (s) {
    case IBV_WC_SUCCESS: return "success";
    case IBV_WC_LOC_LEN_ERR: return "local length error";
    case IBV_WC_LOC_QP_OP_ERR: return "local QP operation error";
    case IBV_WC_LOC_EEC_OP_ERR: return "local EE context operation error";
    case IBV_WC_LOC_PROT_ERR: return "local protection error";
    case IBV_WC_WR_FLUSH_ERR: return "Work Request Flushed Error";
    case IBV_WC_MW_BIND_ERR: return "memory management operation error";
    case IBV_WC_BAD_RESP_ERR: return "bad response error";
    case IBV_WC_LOC_ACCESS_ERR: return "local access error";
    case IBV_WC_REM_INV_REQ_ERR: return "remote invalid request error";
    case IBV_WC_REM_ACCESS_ERR: return "remote access error";
    case IBV_WC_REM_OP_ERR: return "remote operation error";
    case IBV_WC_RETRY_EXC_ERR: return "transport retry counter exceeded";
    case IBV_WC_RNR_RETRY_EXC_ERR: return "RNR retry counter exceeded";
    case IBV_WC_LOC_RDD_VIOL_ERR: return "local RDD violation error";
    case IBV_WC_REM_INV_RD_REQ_ERR: return "remote invalid RD request";
    case IBV_WC_REM_ABORT_ERR: return "aborted error";
    case IBV_WC_INV_EECN_ERR: return "invalid EE context number";
    case IBV_WC_INV_EEC_STATE_ERR: return "invalid EE context state";
    case IBV_WC_FATAL_ERR: return "fatal error";
    case IBV_WC_RESP_TIMEOUT_ERR: return "response timeout error";
    case IBV_WC_GENERAL_ERR: return "general error";
    case IBV_WC_TM_ERR: return "TM error";
    case IBV_WC_TM_RNDV_INCOMPLETE: return "TM software rendezvous";
    default: return "unknown";
    }
}

HCASIM_EXPORT const char* ibv_wr_opcode_str(ibv_wr_opcode op) {
    switch (op) {
    case IBV_WR_RDMA_WRITE: return "rdma-write";
    case IBV_WR_RDMA_WRITE_WITH_IMM: return "rdma-write-with-imm";
    case IBV_WR_SEND: return "send";
    case IBV_WR_SEND_WITH_IMM: return "send-with-imm";
    case IBV_WR_RDMA_READ: return "rdma-read";
    case IBV_WR_ATOMIC_CMP_AND_SWP: return "atomic-cmp-and-swp";
    case IBV_WR_ATOMIC_FETCH_AND_ADD: return "atomic-fetch-and-add";
    case IBV_WR_LOCAL_INV: return "local-inv";
    case IBV_WR_BIND_MW: return "bind-mw";
    case IBV_WR_SEND_WITH_INV: return "send-with-inv";
    case IBV_WR_TSO: return "tso";
    case IBV_WR_DRIVER1: return "driver1";
    case IBV_WR_FLUSH: return "flush";
    case IBV_WR_ATOMIC_WRITE: return "atomic-write";
    default: return "unknown";
    }
}

HCASIM_EXPORT int ibv_rate_to_mult(ibv_rate rate) {
    const Rate* r = find_rate([&](const Rate& x) { return x.rate == rate; });
    return r ? r->mult : -1;
}

HCASIM_EXPORT ibv_rate mult_to_ibv_rate(int mult) {
    const Rate* r = find_rate([&](const Rate& x) { return x.mult == mult; });
    return r && mult > 0 ? r->rate : IBV_RATE_MAX;
}

HCASIM_EXPORT int ibv_rate_to_mbps(ibv_rate rate) {
    const Rate* r = find_rate([&](const Rate& x) { return x.rate == rate; });
    return r ? r->mbps : -1;
}

HCASIM_EXPORT ibv_rate mbps_to_ibv_rate(int mbps) {
    const Rate* r = find_rate([&](const Rate& x) { return x.mbps == mbps; });
    return r ? r->rate : IBV_RATE_MAX;
}

// $SYSFS_PATH (trailing slashes dropped) unless set-uid, else /sys.
HCASIM_EXPORT const char* ibv_get_sysfs_path() {
    static const std::string path = [] {
        const char* env = ::getuid() == ::geteuid() ? std::getenv("SYSFS_PATH") : nullptr;
        std::string p = env ? env : "/sys";
        while (p.size() > 1 && p.back() == '/') p.pop_back();
        return p;
    }();
    return path.c_str();
}

// The file's contents without a trailing newline, NUL-terminated: its
// length, or -1 (also when it would not fit with the terminator).
HCASIM_EXPORT int ibv_read_sysfs_file(const char* dir, const char* file, char* buf, size_t size) {
    const std::string path = std::string(dir) + "/" + file;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t len = ::read(fd, buf, size);
    ::close(fd);
    if (len > 0) {
        if (buf[len - 1] == '\n') buf[--len] = '\0';
        else if (static_cast<size_t>(len) < size) buf[len] = '\0';
        else return -1;
    }
    return static_cast<int>(len);
}

HCASIM_EXPORT int ibv_fork_init(void) { return fork_ranges().init(); }

HCASIM_EXPORT enum ibv_fork_status ibv_is_fork_initialized(void) {
    return fork_ranges().enabled() ? IBV_FORK_ENABLED : IBV_FORK_DISABLED;
}

HCASIM_EXPORT int ibv_dontfork_range(void* base, size_t size) {
    return fork_ranges().advise(base, size, +1);
}

HCASIM_EXPORT int ibv_dofork_range(void* base, size_t size) {
    return fork_ranges().advise(base, size, -1);
}
