// The wire port backend: port 1 on an Ethernet link, carrying RoCEv2
// (IBTA vol 1 Annex A17: Ethernet / IPv4 / UDP 4791 / BTH ... / ICRC).
// The engine is the same as with loopback; only the backend differs.
//
// Sending: a packet for one of our own GIDs comes straight back (as the
// loopback port); any other destination must be a RoCEv2 IPv4-mapped GID,
// whose MAC the ARP table resolves.  While the MAC is unknown the frame
// waits for the ARP reply, as Linux's neighbour queue does: at most
// kArpQueueBytes of frames, each for at most kArpHoldNs (ARP asks again
// every 200 ms meanwhile); an overflowing or expired frame is dropped
// and counted (tx_arp_miss), RC retransmits, and an unanswered peer ends
// in IBV_WC_RETRY_EXC_ERR.  Frames pass the fault injector, the tap
// (pcap) and then the link.  A link that is full (FrameLink Busy: a
// switch port's socket queue) is not a loss: the frame waits in the
// transmit queue, in order, with those after it (at most kTxQueueBytes;
// beyond that, or while the link is down, frames are dropped and counted
// in tx_link_drops), poll() retries the oldest, and meanwhile tx_busy()
// holds the requesters back.
//
// Receiving: ARP goes to the ARP table; everything else must be an IPv4
// RoCEv2 frame for our MAC and IPv4 address, with a correct ICRC and
// P_Key 0xffff (the only entry of the P_Key table).  Anything else is
// dropped and counted by reason: it never reaches a QP.  The engine then
// checks the QPN, the opcode sequence, PSNs, keys and bounds.
//
// Link state follows the link: the port is ACTIVE while it is up, and
// every change raises IBV_EVENT_PORT_ACTIVE / IBV_EVENT_PORT_ERR.
#pragma once

#include "device/arp_table.h"
#include "device/engine.h"
#include "device/frame_link.h"
#include "device/roce_frame.h"
#include "device/wire_faults.h"

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

namespace hcasim::device {

// Frames dropped on receive, by reason (the inspection interface shows them).
enum class WireDrop : uint8_t {
    Runt,            // shorter than an Ethernet header
    NotForUs,        // another unicast MAC, or another IPv4 address
    NotRoce,         // not ARP, not IPv4/UDP 4791
    Malformed,       // a RoCEv2 frame the codec rejects (see its error)
    BadIcrc,
    BadPkey,
    Arp,             // a malformed ARP frame
    Overrun,         // the engine has kRxBacklog packets waiting already
    Count
};
const char* to_string(WireDrop d);

struct WireStats {
    uint64_t tx_frames = 0, rx_frames = 0, tx_local = 0;
    uint64_t tx_no_route = 0;     // destination GID not RoCEv2 IPv4
    uint64_t tx_arp_queued = 0;   // held for an ARP reply (then sent or dropped)
    uint64_t tx_arp_miss = 0;     // dropped: no ARP reply in time, or the queue full
    uint64_t tx_link_drops = 0;   // the link took no frame (down, error, transmit queue full)
    uint64_t tx_link_busy = 0;    // frames the link pushed back, queued and sent later
    std::array<uint64_t, static_cast<size_t>(WireDrop::Count)> rx_dropped{};
    uint64_t rx_dropped_total() const {
        uint64_t n = 0;
        for (uint64_t v : rx_dropped) n += v;
        return n;
    }
};

class WirePort final : public PortBackend {
public:
    static constexpr size_t kRxBacklog = 4096;  // packets queued for the engine, at most
    static constexpr size_t kArpQueueBytes = 256 * 1024;      // frames awaiting ARP, at most
    static constexpr uint64_t kArpHoldNs = 1'000'000'000ull;  // how long one may wait
    static constexpr size_t kTxQueueBytes = 8u << 20;         // frames a full link holds back, at most
    static constexpr uint64_t kTxRetryNs = 50'000;            // an idle device retries a full link this often

    // `link` carries the frames; `tap` (may be null) sees them all.
    WirePort(RdmaEngine& engine, FrameLink& link, FrameTap* tap, const WireFaultConfig& faults,
             Tracer& trace);

    void send(Packet& p) override;
    bool link_up() const override { return link_.up(); }
    bool tx_busy() const override { return !tx_queue_.empty(); }
    void drain_arrived() override;
    const char* name() const override { return "wire"; }

    // A frame arrived from the link.
    void on_frame(const uint8_t* frame, size_t len);
    // The link went up or down.
    void on_link_state(bool up);
    // Sends what the transmit queue holds while the link takes it,
    // releases delayed or reordered frames whose time has come, asks ARP
    // again for held frames and drops the expired ones; returns true if
    // it sent or dropped any.
    bool poll();
    // The next time poll() has work, ns (steady clock); 0 if none.
    uint64_t next_deadline() const;

    ArpTable& arp() { return arp_; }
    const WireStats& stats() const { return stats_; }
    const WireFaultStats& fault_stats() const { return faults_.stats(); }

private:
    // A frame whose destination MAC awaits ARP (bytes 0-5 filled on the reply).
    struct Unresolved {
        uint32_t ipv4;
        uint64_t since;  // ns
        std::vector<uint8_t> frame;
    };
    void hold(uint32_t ipv4, std::vector<uint8_t> frame);
    void release_resolved();
    bool poll_unresolved(uint64_t now);
    void transmit(std::vector<uint8_t> frame);
    void put_on_link(const std::vector<uint8_t>& frame);
    bool flush_tx_queue();
    void drop(WireDrop why, const char* detail);
    uint64_t now() const;

    RdmaEngine& engine_;
    FrameLink& link_;
    FrameTap* tap_;
    Tracer& trace_;
    ArpTable arp_;
    WireFaults faults_;
    WireStats stats_;
    std::vector<uint8_t> frame_;          // the frame send() builds
    std::deque<Unresolved> unresolved_;  // oldest first
    size_t unresolved_bytes_ = 0;
    uint64_t arp_poll_at_ = 0;           // next re-ask for held frames, ns
    std::deque<std::vector<uint8_t>> tx_queue_;  // frames the link could not take yet, oldest first
    size_t tx_queue_bytes_ = 0;
};

}  // namespace hcasim::device
