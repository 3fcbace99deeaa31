// The port's Ethernet link through libvdeplug (Debian libvdeplug-dev): one
// URL names any VDE network, e.g.
//   vde:///run/vde.ctl   a vde_switch (QEMU guests join with -netdev vde)
//   ptp:///tmp/hca.ptp   a point-to-point link between two processes
//   tap://tap0           a Linux tap interface
//   vxvde://239.1.2.3    a distributed switch over UDP multicast
// A receive thread per connection takes frames off the link as soon as
// they arrive and puts them in a FrameRing (kRxRingBytes) that the device
// loop drains with pump(): a vde_switch port (or a ptp:// peer) queues
// only net.unix.max_dgram_qlen datagrams (10 by default) and drops the
// rest, so the link must be read even while the device loop is busy or
// waits for a CPU.  The thread wakes an idle loop through wake_fd().
// Frames are sent from the loop's thread, without blocking (send() says
// Busy when the peer's queue is full).  The link is up while the
// connection stands: EOF on the control fd (the switch went away), a
// send to a switch that finds it gone, or a receive error sets it down;
// it is then reopened every `reconnect_interval` until it comes back.
// Every change is reported.  A ptp:// link has no control fd and is
// never set down for its peer: a peer not there yet (or gone, or
// restarting) only drops the frames sent meanwhile, and our socket stays
// bound at its path so that the peer can (re)connect to it (closing it
// would unlink that path: libvdeplug_ptp's vde_close).
#pragma once

#include "common/unique_fd.h"
#include "device/frame_link.h"
#include "link/frame_ring.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

struct vdeconn;

namespace hcasim::link {

class VdeLink final : public device::FrameLink {
public:
    using OnState = std::function<void(bool up)>;

    static constexpr size_t kRxRingBytes = 4u << 20;  // received frames not yet pumped, at most
    static constexpr size_t kMaxFrame = 16384;        // longer frames arrive truncated

    explicit VdeLink(std::string url);
    ~VdeLink() override { close(); }
    VdeLink(const VdeLink&) = delete;
    VdeLink& operator=(const VdeLink&) = delete;

    // Connects and starts the receive thread.  Returns "" or why not
    // (libvdeplug's errno text).
    std::string open();
    // Stops the receive thread (frames not yet pumped are dropped) and
    // disconnects.
    void close();

    // Busy when the peer's socket queue is full (EAGAIN, ENOBUFS): a
    // vde_switch port or a ptp:// peer queues only net.unix.max_dgram_qlen
    // datagrams (10 by default).
    SendResult send(const uint8_t* frame, size_t len) override;
    bool up() const override { return conn_ != nullptr; }

    // Hands the frames the receive thread took (at most `budget`) to
    // on_frame, in order; notices a connection the thread found gone;
    // when down, retries the connection once `reconnect_interval` has
    // passed.  Returns the frames handed over.
    size_t pump(const OnFrame& on_frame, size_t budget = 256);
    // pump() until the receive ring is empty (as many frames as the ring
    // can hold, at most).
    size_t drain(const OnFrame& on_frame) override { return up() ? pump(on_frame, kRxRingBytes / 64) : 0; }
    void set_on_state(OnState f) { on_state_ = std::move(f); }
    // An eventfd that becomes readable when the receive thread has
    // something for pump() after prepare_wait() (the reader clears it).
    // It stays the same across connections.
    int wake_fd() const { return wake_fd_.get(); }
    // Before the device loop sleeps: asks the receive thread to signal
    // wake_fd(); signals it at once if frames wait already.
    void prepare_wait();

    // Counts successful opens: a new connection has new fds.
    uint64_t generation() const { return generation_; }
    const std::string& url() const { return url_; }
    uint64_t send_drops() const { return send_drops_; }
    uint64_t send_busy() const { return send_busy_; }
    // Frames left in the peer's queue because the ring was full (counted
    // by the receive thread; the peer then drops what its queue cannot take).
    uint64_t rx_ring_full() const { return rx_ring_full_.load(std::memory_order_relaxed); }
    std::chrono::milliseconds reconnect_interval{1000};

private:
    void lost(const char* why);
    void receive_loop(int data_fd, int ctl_fd);
    void wake();

    std::string url_;
    vdeconn* conn_ = nullptr;
    std::mutex io_mu_;  // one libvdeplug call at a time on conn_ (its plugins keep state)
    std::thread rx_thread_;
    UniqueFd stop_fd_, wake_fd_;  // eventfds: stop the thread; wake the loop
    FrameRing ring_{kRxRingBytes, kMaxFrame};
    bool has_ctl_ = false;                    // the connection has a control fd (a switch)
    std::atomic<bool> rx_failed_{false};      // the thread found the connection gone
    std::atomic<bool> loop_waiting_{false};   // prepare_wait() ran and no wake since
    std::atomic<uint64_t> rx_ring_full_{0};
    std::chrono::steady_clock::time_point next_try_{};
    OnState on_state_;
    uint64_t send_drops_ = 0;
    uint64_t send_busy_ = 0;
    uint64_t generation_ = 0;
};

}  // namespace hcasim::link
