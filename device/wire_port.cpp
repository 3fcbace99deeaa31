// The wire port backend (see wire_port.h).
#include "device/wire_port.h"


namespace hcasim::device {
namespace {

constexpr size_t kMinFrame = 60;  // Ethernet minimum without the FCS

// UDP source port: flow entropy (Annex A17.3.1) from the flow label, or
// from the destination QP when the GRH has none; 0xc000-0xffff.
uint16_t udp_sport(const Packet& p) {
    uint32_t h = p.flow_label ? p.flow_label : p.dest_qp * 0x9e3779b1u;
    h ^= h >> 14;
    return static_cast<uint16_t>(0xc000 | (h & 0x3fff));
}

}  // namespace

const char* to_string(WireDrop d) {
    switch (d) {
    case WireDrop::Runt: return "runt";
    case WireDrop::NotForUs: return "not for us";
    case WireDrop::NotRoce: return "not RoCEv2";
    case WireDrop::Malformed: return "malformed";
    case WireDrop::BadIcrc: return "bad ICRC";
    case WireDrop::BadPkey: return "bad P_Key";
    case WireDrop::Arp: return "malformed ARP";
    case WireDrop::Overrun: return "receive overrun";
    case WireDrop::Count: break;
    }
    return "?";
}

WirePort::WirePort(RdmaEngine& engine, FrameLink& link, FrameTap* tap, const WireFaultConfig& faults,
                   Tracer& trace)
    : engine_(engine),
      link_(link),
      tap_(tap),
      trace_(trace),
      arp_(ArpTable::Config{engine.port().mac, engine.port().ipv4},
           [this](const uint8_t* f, size_t n) { transmit(std::vector<uint8_t>(f, f + n)); }),
      faults_(faults) {}

uint64_t WirePort::now() const { return engine_.now_ns(); }

void WirePort::send(Packet& p) {
    if (engine_.is_local_gid(p.dgid)) {
        // A QP of this HCA: looped back inside the port, as a NIC does.
        ++stats_.tx_local;
        engine_.receive(p);
        return;
    }
    uint32_t dip = 0;
    if (!gid_to_ipv4(p.dgid, dip)) {
        ++stats_.tx_no_route;
        return;
    }
    const auto mac = arp_.resolve(dip, now());
    FrameAddress a;
    a.src_mac = engine_.port().mac;
    if (mac) a.dst_mac = *mac;
    a.udp_sport = udp_sport(p);
    std::vector<uint8_t>& f = frame_;  // reused: no allocation per frame
    if (build_roce_frame(p, a, f) != FrameError::None) {
        ++stats_.tx_no_route;
        return;
    }
    if (f.size() < kMinFrame) f.resize(kMinFrame, 0);
    // Held frames leave when the ARP reply arrives (on_frame), before any
    // later frame to that peer: a flow's order is kept.
    if (!mac) return hold(dip, f);
    if (!faults_.config().any()) return put_on_link(f);  // copied only if the link is busy
    transmit(f);
}

void WirePort::hold(uint32_t ipv4, std::vector<uint8_t> frame) {
    const uint64_t t = now();
    ++stats_.tx_arp_queued;
    unresolved_bytes_ += frame.size();
    unresolved_.push_back({ipv4, t, std::move(frame)});
    // Full: the oldest frames go (Linux's neighbour queue does the same).
    while (unresolved_bytes_ > kArpQueueBytes) {
        unresolved_bytes_ -= unresolved_.front().frame.size();
        unresolved_.pop_front();
        ++stats_.tx_arp_miss;
    }
    if (!arp_poll_at_) arp_poll_at_ = t + arp_.retry_ns();
}

// Sends the held frames whose MAC is known now, in order; the others stay.
void WirePort::release_resolved() {
    const uint64_t t = now();
    std::deque<Unresolved> still;
    for (auto& u : unresolved_) {
        if (const auto mac = arp_.lookup(u.ipv4, t)) {
            std::copy(mac->begin(), mac->end(), u.frame.begin());
            unresolved_bytes_ -= u.frame.size();
            transmit(std::move(u.frame));
        } else {
            still.push_back(std::move(u));
        }
    }
    unresolved_.swap(still);
    if (unresolved_.empty()) arp_poll_at_ = 0;
}

bool WirePort::poll_unresolved(uint64_t t) {
    if (unresolved_.empty()) return false;
    bool work = false;
    while (!unresolved_.empty() && t - unresolved_.front().since >= kArpHoldNs) {
        unresolved_bytes_ -= unresolved_.front().frame.size();
        unresolved_.pop_front();
        ++stats_.tx_arp_miss;
        work = true;
    }
    if (unresolved_.empty()) {
        arp_poll_at_ = 0;
        return work;
    }
    if (t >= arp_poll_at_) {
        // Ask again (ArpTable rate-limits to one request per retry_ns).
        for (const auto& u : unresolved_) arp_.resolve(u.ipv4, t);
        arp_poll_at_ = t + arp_.retry_ns();
        work = true;
    }
    return work;
}

uint64_t WirePort::next_deadline() const {
    uint64_t d = faults_.next_deadline();
    if (!tx_queue_.empty()) {
        const uint64_t t = now() + kTxRetryNs;
        d = d ? std::min(d, t) : t;
    }
    if (!unresolved_.empty()) {
        const uint64_t u = std::min(arp_poll_at_, unresolved_.front().since + kArpHoldNs);
        d = d ? std::min(d, u) : u;
    }
    return d;
}

void WirePort::transmit(std::vector<uint8_t> frame) {
    if (!faults_.config().any()) {
        put_on_link(frame);
        return;
    }
    faults_.submit(std::move(frame), now(), [this](const std::vector<uint8_t>& f) { put_on_link(f); });
}

void WirePort::put_on_link(const std::vector<uint8_t>& frame) {
    if (tap_) tap_->frame(FrameTap::Dir::Tx, frame.data(), frame.size(), 0);
    if (tx_queue_.empty()) {
        switch (link_.send(frame.data(), frame.size())) {
        case FrameLink::SendResult::Sent: ++stats_.tx_frames; return;
        case FrameLink::SendResult::Dropped: ++stats_.tx_link_drops; return;
        case FrameLink::SendResult::Busy: break;
        }
    }
    // Behind the frames already waiting: a flow's order is kept.
    if (!link_.up() || tx_queue_bytes_ + frame.size() > kTxQueueBytes) {
        ++stats_.tx_link_drops;
        return;
    }
    ++stats_.tx_link_busy;
    tx_queue_bytes_ += frame.size();
    tx_queue_.push_back(frame);
}

bool WirePort::flush_tx_queue() {
    bool work = false;
    while (!tx_queue_.empty()) {
        const std::vector<uint8_t>& f = tx_queue_.front();
        const auto r = link_.send(f.data(), f.size());
        if (r == FrameLink::SendResult::Busy) break;
        if (r == FrameLink::SendResult::Sent) ++stats_.tx_frames;
        else ++stats_.tx_link_drops;
        tx_queue_bytes_ -= f.size();
        tx_queue_.pop_front();
        work = true;
    }
    return work;
}

bool WirePort::poll() {
    bool work = flush_tx_queue();
    work = poll_unresolved(now()) || work;
    if (!faults_.next_deadline()) return work;
    const uint64_t before = stats_.tx_frames + stats_.tx_link_drops + stats_.tx_link_busy;
    faults_.poll(now(), [this](const std::vector<uint8_t>& f) { put_on_link(f); });
    return work || stats_.tx_frames + stats_.tx_link_drops + stats_.tx_link_busy != before;
}

void WirePort::drop(WireDrop why, const char* detail) {
    ++stats_.rx_dropped[static_cast<size_t>(why)];
    trace::wire_drop(trace_, to_string(why), detail);
}

void WirePort::on_frame(const uint8_t* frame, size_t len) {
    if (tap_) tap_->frame(FrameTap::Dir::Rx, frame, len, 0);
    ++stats_.rx_frames;
    if (len < kEthHeaderLen) return drop(WireDrop::Runt, "");
    const uint16_t type = static_cast<uint16_t>(frame[12] << 8 | frame[13]);
    if (type == kEtherTypeArp) {
        if (!arp_.on_frame(frame, len, now())) drop(WireDrop::Arp, "");
        else if (!unresolved_.empty()) release_resolved();
        return;
    }
    const Mac& mac = engine_.port().mac;
    if (!std::equal(mac.begin(), mac.end(), frame)) return drop(WireDrop::NotForUs, "MAC");
    if (type != kEtherTypeIpv4) return drop(WireDrop::NotRoce, "EtherType");
    Packet p;
    const FrameError e = parse_roce_frame(frame, len, p);
    switch (e) {
    case FrameError::None: break;
    case FrameError::NotIpv4:
    case FrameError::NotUdp:
    case FrameError::NotRoceV2: return drop(WireDrop::NotRoce, to_string(e));
    case FrameError::BadIcrc: return drop(WireDrop::BadIcrc, "");
    default: return drop(WireDrop::Malformed, to_string(e));
    }
    if (p.dgid != engine_.gid(1)) return drop(WireDrop::NotForUs, "IPv4 address");
    // The P_Key table holds the default full-member key only (IBTA 10.9.3:
    // the membership bit is not compared).
    if ((p.pkey & 0x7fff) != 0x7fff) return drop(WireDrop::BadPkey, "");
    if (engine_.rx_pending() >= kRxBacklog) return drop(WireDrop::Overrun, "");
    engine_.deliver(p);  // p.data points into the link's buffer: valid for this call
}

void WirePort::drain_arrived() {
    link_.drain([this](const uint8_t* f, size_t n) { on_frame(f, n); });
}

void WirePort::on_link_state(bool up) {
    trace::wire_link(trace_, up ? "up" : "down");
    if (!up) {
        arp_.clear();
        stats_.tx_link_drops += tx_queue_.size();  // that connection is gone
        tx_queue_.clear();
        tx_queue_bytes_ = 0;
    }
    engine_.port_changed();
}

}  // namespace hcasim::device
