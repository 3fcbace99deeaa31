// Port 1 on a wire (see port_wire.h).
#include "daemon/port_wire.h"

#include <fmt/format.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>

namespace hcasim::daemon {

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
    trace::wire_port(trace_, opts_.url, opts_.pcap, opts_.faults.any() ? "on" : "off");
    return "";
}

bool PortWire::poll() {
    if (!port_) return false;
    const size_t got = link_.pump([this](const uint8_t* f, size_t n) { port_->on_frame(f, n); });
    if (got) hca_.engine().flush_rx();  // one ACK for the batch
    const bool sent = port_->poll();
    return got > 0 || sent;
}

void PortWire::arm(boost::asio::io_context& io) {
    if (!wake_wait_) wake_wait_.emplace(io, ::dup(link_.wake_fd()));
    // The wait first, then the request for a signal: Asio's reactor is
    // edge-triggered, so a signal given before the wait is pending would
    // be lost, and the device would sleep through its frames.
    if (!wake_pending_) {
        wake_pending_ = true;
        wake_wait_->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                               [this](const boost::system::error_code& ec) {
                                   wake_pending_ = false;
                                   if (ec) return;
                                   eventfd_t v;
                                   ::eventfd_read(wake_wait_->native_handle(), &v);
                               });
    }
    link_.prepare_wait();
}

void PortWire::nap(std::chrono::microseconds d) {
    link_.prepare_wait();
    pollfd p{link_.wake_fd(), POLLIN, 0};
    const timespec ts{0, static_cast<long>(d.count()) * 1000};
    if (::ppoll(&p, 1, &ts, nullptr) > 0) {
        eventfd_t v;
        ::eventfd_read(link_.wake_fd(), &v);
    }
}

uint64_t PortWire::next_deadline() const {
    if (!port_) return 0;
    uint64_t d = port_->next_deadline();
    if (!link_.up()) {
        // Retry the link about every reconnect interval.
        const uint64_t retry =
            hca_.now_ns() + static_cast<uint64_t>(
                                std::chrono::duration_cast<std::chrono::nanoseconds>(link_.reconnect_interval).count());
        if (d == 0 || retry < d) d = retry;
    }
    return d;
}

}  // namespace hcasim::daemon
