// Fault injection on the port's egress: a bad link between this device
// and the wire, for testing RC recovery (IBTA 9.7.5-9.7.6: retransmission
// on timeout, PSN-sequence NAK, RNR; duplicate detection at the
// responder).  Each frame the port sends passes through here and is, with
// the configured probabilities:
//   - lost (never sent);
//   - corrupted (one random bit flipped past the Ethernet header, so the
//     receiver's ICRC or header check drops it);
//   - duplicated (sent twice);
//   - reordered (held back and sent after the next frame, or after
//     `reorder_hold_ns` if no frame follows);
//   - delayed by `delay_ns` (every frame; order among delayed frames kept).
// The random choices come from one generator seeded with `seed`, so a run
// with the same frames and seed makes the same choices.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace hcasim::device {

struct WireFaultConfig {
    double loss = 0;          // probability, 0..1
    double duplicate = 0;     // probability, 0..1
    double reorder = 0;       // probability, 0..1
    double corrupt = 0;       // probability, 0..1
    uint64_t delay_ns = 0;    // added to every frame, ns
    uint64_t reorder_hold_ns = 1'000'000;  // longest a reordered frame waits, ns
    uint64_t seed = 1;
    bool any() const { return loss > 0 || duplicate > 0 || reorder > 0 || corrupt > 0 || delay_ns > 0; }
};

// Parses "loss=0.01,dup=0.001,reorder=0.01,corrupt=0.001,delay-us=50,seed=7"
// (any subset, any order) into cfg; returns an error message or "".
std::string parse_wire_faults(const std::string& spec, WireFaultConfig& cfg);

struct WireFaultStats {
    uint64_t frames = 0, lost = 0, corrupted = 0, duplicated = 0, reordered = 0, delayed = 0;
};

class WireFaults {
public:
    using Sink = std::function<void(const std::vector<uint8_t>& frame)>;

    explicit WireFaults(const WireFaultConfig& cfg) : cfg_(cfg), rng_(cfg.seed) {}

    // A frame the port sends at `now_ns`: what is due now goes to `out`.
    void submit(std::vector<uint8_t> frame, uint64_t now_ns, const Sink& out);
    // Sends the held frames whose time has come.
    void poll(uint64_t now_ns, const Sink& out);
    // When the next held frame is due, ns; 0 if none is held.
    uint64_t next_deadline() const;

    const WireFaultConfig& config() const { return cfg_; }
    const WireFaultStats& stats() const { return stats_; }

private:
    struct Held {
        uint64_t due;
        std::vector<uint8_t> frame;
    };
    bool chance(double p);
    void emit(std::vector<uint8_t> frame, uint64_t now_ns, const Sink& out);

    WireFaultConfig cfg_;
    std::mt19937_64 rng_;
    std::deque<Held> delayed_;       // in due order (every frame gets the same delay)
    std::vector<Held> reordered_;    // at most one: sent after the next frame
    WireFaultStats stats_;
};

}  // namespace hcasim::device
