// Port 1 on a wire (see port_wire.h).
#include "pcie/port_wire.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>

namespace hcasim::pcie {

PortWire::PortWire(Hca& hca, PortWireOptions opts, Tracer& trace)
    : hca_(hca), opts_(std::move(opts)), trace_(trace), link_(opts_.url) {}

PortWire::~PortWire() {
    if (port_) hca_.set_port_backend(nullptr);
}

std::string PortWire::start() {
    if (!opts_.pcap.empty()) {
        if (auto err = pcap_.open(opts_.pcap); !err.empty()) return fmt::format("--pcap {}: {}", opts_.pcap, err);
    }
    if (auto err = link_.open(); !err.empty()) return fmt::format("--port {}: {}", opts_.url, err);
    port_ = std::make_unique<device::WirePort>(hca_.engine(), link_, pcap_.is_open() ? &pcap_ : nullptr,
                                               opts_.faults, trace_);
    link_.set_on_state([this](bool up) { port_->on_link_state(up); });
    hca_.set_port_backend(port_.get());
    trace_.event("wire_port", "url=\"{}\" pcap=\"{}\" faults={}", opts_.url, opts_.pcap,
                 opts_.faults.any() ? "on" : "off");
    return "";
}

bool PortWire::poll() {
    if (!port_) return false;
    const size_t got = link_.pump([this](const uint8_t* f, size_t n) { port_->on_frame(f, n); });
    const bool sent = port_->poll();
    return got > 0 || sent;
}

void PortWire::arm(boost::asio::io_context& io) {
    if (armed_generation_ != link_.generation() || !link_.up()) {
        // A new connection (or none): the waits hold dups of the link's
        // fds (the link owns and closes its own), so drop the old ones.
        for (FdWait* w : {&data_wait_, &ctl_wait_}) {
            w->sd.reset();
            w->pending = false;
        }
        armed_generation_ = 0;
        if (!link_.up()) return;
        armed_generation_ = link_.generation();
        if (link_.data_fd() >= 0) data_wait_.sd.emplace(io, ::dup(link_.data_fd()));
        if (link_.ctl_fd() >= 0) ctl_wait_.sd.emplace(io, ::dup(link_.ctl_fd()));
    }
    for (FdWait* w : {&data_wait_, &ctl_wait_}) {
        if (!w->sd || w->pending) continue;
        w->pending = true;
        w->sd->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                          [w](const boost::system::error_code&) { w->pending = false; });
    }
}

uint64_t PortWire::next_deadline() const {
    if (!port_) return 0;
    uint64_t d = port_->next_deadline();
    if (!link_.up()) {
        // Retry the link about every reconnect interval.
        const auto now = std::chrono::steady_clock::now().time_since_epoch();
        const uint64_t retry = static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(now + link_.reconnect_interval).count());
        if (d == 0 || retry < d) d = retry;
    }
    return d;
}

}  // namespace hcasim::pcie
