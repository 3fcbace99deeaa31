// Port 1 on a wire (hcasim-device --port URL): the libvdeplug link, the
// optional pcap capture (--pcap) and egress faults (--wire-faults), put
// behind the engine as its port backend (device/wire_port.h).  The device
// loop calls poll() with every scan; while the device is idle, the link's
// receive thread wakes the event loop (arm()).
#pragma once

#include "device/wire_port.h"
#include "pcie/hca.h"
#include "link/pcap_writer.h"
#include "link/vde_link.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace hcasim::daemon {

using pcie::Hca;
using link::VdeLink;
using link::PcapWriter;

struct PortWireOptions {
    std::string url;                   // libvdeplug URL
    std::string pcap;                  // capture file, or empty
    device::WireFaultConfig faults;
};

class PortWire {
public:
    PortWire(Hca& hca, PortWireOptions opts, Tracer& trace);
    ~PortWire();
    PortWire(const PortWire&) = delete;
    PortWire& operator=(const PortWire&) = delete;

    // Opens the capture and the link and makes this the HCA's port.
    // Returns "" or why not.
    std::string start();
    // Receives what waits on the link, releases delayed frames, retries a
    // lost link.  True if anything happened.
    bool poll();
    // Waits (asynchronously) for the link's wake fd, so an idle device
    // wakes for a frame or a lost connection.  Called by the device loop
    // before it sleeps.
    void arm(boost::asio::io_context& io);
    // Sleeps at most `d`, or until the link's receive thread has frames
    // (the device loop's nap while the host's cores are contended).
    void nap(std::chrono::microseconds d);
    // The next time poll() must run, ns (fault delays; reconnecting); 0: none.
    uint64_t next_deadline() const;

    device::WirePort& port() { return *port_; }
    const VdeLink& link() const { return link_; }
    const PcapWriter& pcap() const { return pcap_; }

private:
    Hca& hca_;
    PortWireOptions opts_;
    Tracer& trace_;
    VdeLink link_;
    PcapWriter pcap_;
    std::unique_ptr<device::WirePort> port_;
    // The idle wait on the link's wake fd (a dup: the link owns its own).
    std::optional<boost::asio::posix::stream_descriptor> wake_wait_;
    bool wake_pending_ = false;
};

}  // namespace hcasim::daemon
