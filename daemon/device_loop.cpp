// The device loop and its polling policy (see device_loop.h).
#include "daemon/device_loop.h"

#include <boost/asio/executor_work_guard.hpp>
#include <fcntl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace hcasim::daemon {
namespace {

using Clock = std::chrono::steady_clock;

// How long this thread has waited on a runqueue, ns (/proc/thread-self/
// schedstat, second field); 0 when the kernel has no schedstat.
class RunDelay {
public:
    RunDelay() : fd_(::open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC)) {}
    ~RunDelay() {
        if (fd_ >= 0) ::close(fd_);
    }
    RunDelay(const RunDelay&) = delete;
    RunDelay& operator=(const RunDelay&) = delete;
    bool available() const { return fd_ >= 0; }
    uint64_t read() const {
        char buf[96];
        const ssize_t n = ::pread(fd_, buf, sizeof(buf) - 1, 0);
        if (n <= 0) return 0;
        buf[n] = 0;
        char* end = nullptr;
        std::strtoull(buf, &end, 10);  // sum_exec_runtime
        return std::strtoull(end, nullptr, 10);
    }

private:
    int fd_;
};

void nap(std::chrono::microseconds d) {
    const timespec ts{0, static_cast<long>(d.count()) * 1000};
    ::nanosleep(&ts, nullptr);
}

}  // namespace

int apply_sched_hints(const PollPolicy& policy) {
    if (policy.nap.count() > 0) ::prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
    if (policy.slice_us == 0) return 0;
    // struct sched_attr (include/uapi/linux/sched/types.h, 48 bytes): for
    // SCHED_OTHER, sched_runtime is the EEVDF slice (Linux 6.12); a task
    // that sleeps often with a short slice may preempt on wake-up.
    struct {
        uint32_t size, policy;
        uint64_t flags;
        int32_t nice;
        uint32_t priority;
        uint64_t runtime, deadline, period;
    } attr{48, SCHED_OTHER, 0, ::getpriority(PRIO_PROCESS, 0), 0, uint64_t{policy.slice_us} * 1000, 0, 0};
    return ::syscall(SYS_sched_setattr, 0, &attr, 0) == 0 ? 0 : errno;
}

void run_device_loop(boost::asio::io_context& io, Hca& hca, const PollPolicy& policy, LoopStats& stats,
                     const LoopHooks& hooks) {
    auto work_guard = boost::asio::make_work_guard(io);
    RunDelay run_delay;
    const bool can_nap = policy.nap.count() > 0;
    auto last_work = Clock::now();
    // Spinning is probed over windows of wall time; napping is held.
    auto window_start = last_work;
    uint64_t window_delay = run_delay.available() ? run_delay.read() : 0;
    Clock::time_point nap_until{};
    hca.set_polling(true);
    while (!io.stopped()) {
        io.poll();
        ++stats.scans;
        const bool port_work = hooks.poll && hooks.poll();
        if (hca.poll() || port_work) {
            last_work = Clock::now();
            continue;
        }
        const auto now = Clock::now();
        if (now - last_work < policy.hot) {
            if (nap_until != Clock::time_point{}) {
                if (now < nap_until) {
                    ++stats.naps;
                    if (hooks.nap) hooks.nap(policy.nap);
                    else nap(policy.nap);
                    continue;
                }
                nap_until = {};  // probe spinning again, over a fresh window
                window_start = now;
                window_delay = run_delay.read();
            }
            if (can_nap && run_delay.available() && now - window_start >= policy.probe_window) {
                const uint64_t d = run_delay.read();
                const auto wall = std::chrono::duration_cast<std::chrono::nanoseconds>(now - window_start);
                if ((d - window_delay) * 4 > static_cast<uint64_t>(wall.count())) {
                    ++stats.contended;
                    nap_until = now + policy.nap_hold;
                }
                window_start = now;
                window_delay = d;
                continue;
            }
            ::sched_yield();  // two host cores are shared with the vCPUs
            continue;
        }
        hca.set_polling(false);
        if (hca.poll() || (hooks.poll && hooks.poll())) {  // work that raced with going idle
            hca.set_polling(true);
            last_work = Clock::now();
            continue;
        }
        ++stats.idle_sleeps;
        if (hooks.arm) hooks.arm(io);
        auto timeout = std::chrono::milliseconds(100);
        uint64_t d = hca.engine().next_deadline();
        if (hooks.next_deadline) {
            const uint64_t h = hooks.next_deadline();
            if (h && (!d || h < d)) d = h;
        }
        if (d) {
            const uint64_t now_ns = hca.now_ns();  // the deadlines' clock
            timeout = std::chrono::milliseconds(d > now_ns ? (d - now_ns) / 1000000 : 0);
        }
        io.run_one_for(timeout);
        hca.set_polling(true);
        last_work = Clock::now();
        window_start = last_work;
        if (run_delay.available()) window_delay = run_delay.read();
    }
}

}  // namespace hcasim::daemon
