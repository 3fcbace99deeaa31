// Device inspection interface: a second UNIX socket (hcasim-device
// --inspect PATH) where tests and tools look inside the device.  One JSON
// object per line in, one per line out:
//   {"cmd":"mkeys"}           every mkey with its counters and last TPH tag
//   {"cmd":"mkey","key":K}    one of them
//   {"cmd":"tph"}             TPH Requester state (enable, ST mode, ST table)
//   {"cmd":"port"}            port 1: backend, state, addresses, engine and wire counters
//   {"cmd":"memic_read","offset":N,"length":N}   bytes of MEMIC (hex)
//   {"cmd":"icm_read","addr":A,"length":N}       bytes of SW ICM (hex)
//   {"cmd":"mr_write","key":K,"addr":A,"data":"hex","remote":true}
//        a device-internal DMA write through an mkey (the path the RDMA
//        engine uses): access and bounds checked, TPH-tagged, counted
// Errors come back as {"error":"..."}.  Several clients may connect.
#pragma once

#include "pcie/hca.h"
#include "daemon/port_wire.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

namespace hcasim::daemon {

using pcie::Hca;

class InspectServer {
public:
    InspectServer(boost::asio::io_context& io, Hca& hca) : io_(io), hca_(hca) {}
    ~InspectServer() { stop(); }
    // Returns 0 or errno.
    int listen(const std::string& path);
    void stop();

    // Handles one request line; returns the reply line (no newline).
    std::string handle(const std::string& line);
    // The wire port, when port 1 has one (its counters go in "port").
    void set_wire(PortWire* wire) { wire_ = wire; }

private:
    void accept_next();
    nlohmann::json port_json();

    boost::asio::io_context& io_;
    Hca& hca_;
    PortWire* wire_ = nullptr;
    std::string path_;
    std::unique_ptr<boost::asio::local::stream_protocol::acceptor> acceptor_;
};

}  // namespace hcasim::daemon
