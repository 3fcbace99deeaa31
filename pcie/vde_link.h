// The port's Ethernet link through libvdeplug (Debian libvdeplug-dev): one
// URL names any VDE network, e.g.
//   vde:///run/vde.ctl   a vde_switch (QEMU guests join with -netdev vde)
//   ptp:///tmp/hca.ptp   a point-to-point link between two processes
//   tap://tap0           a Linux tap interface
//   vxvde://239.1.2.3    a distributed switch over UDP multicast
// Frames are read without blocking (the device loop polls the data fd, and
// waits on it when idle).  The link is up while the connection stands: a
// send or receive that finds the peer gone, or EOF on the control fd (the
// switch went away), sets it down; it is then reopened every
// `reconnect_interval` until it comes back.  Every change is reported.
#pragma once

#include "device/frame_link.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

struct vdeconn;

namespace hcasim::pcie {

class VdeLink final : public device::FrameLink {
public:
    using OnFrame = std::function<void(const uint8_t* frame, size_t len)>;
    using OnState = std::function<void(bool up)>;

    explicit VdeLink(std::string url) : url_(std::move(url)) {}
    ~VdeLink() override { close(); }
    VdeLink(const VdeLink&) = delete;
    VdeLink& operator=(const VdeLink&) = delete;

    // Connects.  Returns "" or why not (libvdeplug's errno text).
    std::string open();
    void close();

    bool send(const uint8_t* frame, size_t len) override;
    bool up() const override { return conn_ != nullptr; }

    // Receives every frame waiting (at most `budget`), handing each to
    // on_frame; checks the control fd; when down, retries the connection
    // once `reconnect_interval` has passed.  Returns the frames received.
    size_t pump(const OnFrame& on_frame, size_t budget = 256);
    void set_on_state(OnState f) { on_state_ = std::move(f); }
    // The fds to wait on while idle (data, control); -1 when down.
    int data_fd() const;
    int ctl_fd() const;

    // Counts successful opens: a new connection has new fds.
    uint64_t generation() const { return generation_; }
    const std::string& url() const { return url_; }
    uint64_t send_drops() const { return send_drops_; }
    std::chrono::milliseconds reconnect_interval{1000};

private:
    void lost(const char* why);

    std::string url_;
    vdeconn* conn_ = nullptr;
    std::vector<uint8_t> buf_ = std::vector<uint8_t>(16384);
    std::chrono::steady_clock::time_point next_try_{};
    OnState on_state_;
    uint64_t send_drops_ = 0;
    uint64_t generation_ = 0;
};

}  // namespace hcasim::pcie
