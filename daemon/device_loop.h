// The device process's main loop and its polling policy: how the one
// device thread shares the host's cores with QEMU's vCPU threads while it
// watches the doorbells (docs/datapath.md, "Polling policy").
//
// While work flows the loop scans the doorbells without sleeping.  When a
// scan finds nothing it either spins (sched_yield between scans: lowest
// latency, costs a core) or naps (sleeps `nap` between scans: a core stays
// free for the vCPUs, each doorbell waits up to `nap` plus the host's
// timer wake-up; a frame from the wire ends a nap early, see
// LoopHooks::nap).  Which one is measured, not configured: every
// `probe_window` of spinning the loop reads how long the thread waited for
// a CPU (schedstat run_delay).  Waiting for more than a quarter of the
// window means the cores are oversubscribed (both vCPUs busy, e.g. two
// guest processes that busy-poll): spinning then only takes the core a
// vCPU needs, so the loop naps for `nap_hold` before it probes again.
// After `hot` without work the device publishes IDLE (drivers then write
// the trapped WAKE register) and sleeps in the event loop until a message
// or the engine's next timer.
#pragma once

#include "pcie/hca.h"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <functional>

namespace hcasim::daemon {

using pcie::Hca;

struct PollPolicy {
    std::chrono::microseconds hot{2000};            // poll this long after the last work (--poll-us)
    std::chrono::microseconds nap{30};              // sleep between scans when cores are contended (--nap-us; 0: never nap)
    std::chrono::microseconds probe_window{1000};   // spinning measured over this much wall time
    std::chrono::milliseconds nap_hold{50};         // nap this long before probing again
    uint32_t slice_us = 100;                        // EEVDF slice asked for, µs (--slice-us; 0: kernel default)
};

// What the loop did, for the inspection interface and tests.
struct LoopStats {
    uint64_t scans = 0;         // doorbell scans
    uint64_t naps = 0;          // sleeps of `nap`
    uint64_t contended = 0;     // probes that found the cores oversubscribed
    uint64_t idle_sleeps = 0;   // times the device went IDLE
};

// Applies the process-wide scheduling hints of `policy` (timer slack of
// 1 µs so naps are short; the EEVDF slice, Linux >= 6.12, ignored before).
// Returns 0 or an errno from sched_setattr (the loop works without it).
int apply_sched_hints(const PollPolicy& policy);

// What else the loop serves beside the HCA's doorbells: a port backend
// that needs polling (daemon/port_wire.h).  Each member may be empty.
struct LoopHooks {
    std::function<bool()> poll;                          // true if it did work
    std::function<void(boost::asio::io_context&)> arm;   // before an idle sleep
    std::function<uint64_t()> next_deadline;             // ns, 0: none
    // Sleeps at most `d`, waking early when the backend has work (a
    // frame); replaces the plain nap between scans.
    std::function<void(std::chrono::microseconds d)> nap;
};

// Runs until io is stopped.
void run_device_loop(boost::asio::io_context& io, Hca& hca, const PollPolicy& policy, LoopStats& stats,
                     const LoopHooks& hooks = {});

}  // namespace hcasim::daemon
