// libvdeplug link of the port (see vde_link.h).
#include "link/vde_link.h"

extern "C" {  // libvdeplug.h has no C++ guard
#include <libvdeplug.h>
}

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace hcasim::link {

VdeLink::VdeLink(std::string url)
    : url_(std::move(url)),
      stop_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      wake_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    if (!stop_fd_ || !wake_fd_) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
}

std::string VdeLink::open() {
    close();
    std::vector<char> url(url_.begin(), url_.end());
    url.push_back('\0');
    errno = 0;
    conn_ = vde_open(url.data(), const_cast<char*>("hcasim-device"), nullptr);
    if (!conn_) return errno ? std::strerror(errno) : "cannot connect";
    const int fd = vde_datafd(conn_);
    if (fd >= 0) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    has_ctl_ = vde_ctlfd(conn_) >= 0;
    ++generation_;
    rx_failed_ = false;
    ring_.clear();
    rx_thread_ = std::thread([this, fd, cfd = vde_ctlfd(conn_)] { receive_loop(fd, cfd); });
    return "";
}

void VdeLink::close() {
    if (rx_thread_.joinable()) {
        ::eventfd_write(stop_fd_.get(), 1);
        rx_thread_.join();
        eventfd_t v;
        ::eventfd_read(stop_fd_.get(), &v);
    }
    if (conn_) vde_close(conn_);
    conn_ = nullptr;
}

void VdeLink::lost(const char*) {
    close();
    next_try_ = std::chrono::steady_clock::now() + reconnect_interval;
    if (on_state_) on_state_(false);
}

VdeLink::SendResult VdeLink::send(const uint8_t* frame, size_t len) {
    if (!conn_) {
        ++send_drops_;
        return SendResult::Dropped;
    }
    ssize_t n;
    int err;
    {
        std::lock_guard lock(io_mu_);
        n = vde_send(conn_, frame, len, 0);
        err = errno;
    }
    if (n >= 0) return SendResult::Sent;
    if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS || err == EINTR) {
        ++send_busy_;
        return SendResult::Busy;
    }
    ++send_drops_;
    // Only a switch connection (it has a control fd) is torn down for a
    // send error: its switch went away.  On a ptp:// link these errors
    // mean the peer is not there (yet, or any more): ECONNREFUSED (its
    // socket closed; the kernel has disconnected ours, and libvdeplug
    // reconnects to the peer's path on the next send), ENOTCONN (no peer
    // bound there yet, or it refuses us: EPERM on the connect).  Closing
    // our socket would unlink our own path, which a peer that opens or
    // reopens needs, and leave the link down for reconnect_interval: the
    // frame is dropped, the socket stays.
    if (has_ctl_ &&
        (err == ECONNREFUSED || err == ENOTCONN || err == EPIPE || err == ECONNRESET || err == ENOENT))
        lost("send");
    return SendResult::Dropped;
}

void VdeLink::wake() {
    if (loop_waiting_.exchange(false)) ::eventfd_write(wake_fd_.get(), 1);
}

void VdeLink::prepare_wait() {
    loop_waiting_ = true;
    if (!ring_.empty() || rx_failed_) wake();
}

// The receive thread: waits for the data fd (and the control fd, which
// the switch closes when it goes away), moves every waiting frame into
// the ring, and wakes the loop if it sleeps.  It ends on stop_fd_ or
// when the connection fails (rx_failed_; pump() then reports it).
void VdeLink::receive_loop(int data_fd, int ctl_fd) {
    pollfd fds[3] = {{stop_fd_.get(), POLLIN, 0}, {data_fd, POLLIN, 0}, {ctl_fd, POLLIN, 0}};
    const nfds_t nfds = ctl_fd >= 0 ? 3 : 2;
    bool full = false;
    for (;;) {
        // A full ring: leave the data for now, look again shortly.
        if (full) fds[1].events = 0;
        const int r = ::poll(fds, nfds, full ? 1 : -1);
        fds[1].events = POLLIN;
        if (r < 0 && errno != EINTR) break;
        if (fds[0].revents) return;
        if (nfds == 3 && fds[2].revents & (POLLIN | POLLHUP | POLLERR)) {
            char c;
            const ssize_t n = ::recv(ctl_fd, &c, 1, MSG_DONTWAIT | MSG_PEEK);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) break;
            if (n > 0) {
                // The switch says something we do not read: stop watching.
                fds[2].fd = -1;
            }
        }
        full = false;
        bool got = false;
        for (;;) {
            uint8_t* slot = ring_.reserve();
            if (!slot) {
                full = true;
                rx_ring_full_.fetch_add(1, std::memory_order_relaxed);
                break;
            }
            ssize_t n;
            int err;
            {
                std::lock_guard lock(io_mu_);
                n = vde_recv(conn_, slot, kMaxFrame, MSG_DONTWAIT);
                err = errno;
            }
            if (n < 0) {
                if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR) break;
                // ptp:// (no control fd): a peer that closed or reconnected
                // while it had frames from us queued reports ECONNRESET once
                // (its socket is gone, ours stands): read on.
                if (ctl_fd < 0 && (err == ECONNRESET || err == ECONNREFUSED)) continue;
                rx_failed_ = true;
                wake();
                return;
            }
            if (n == 0) break;
            ring_.commit(static_cast<size_t>(n));
            got = true;
        }
        if (got) wake();
    }
    rx_failed_ = true;
    wake();
}

size_t VdeLink::pump(const OnFrame& on_frame, size_t budget) {
    if (!conn_) {
        if (std::chrono::steady_clock::now() < next_try_) return 0;
        if (!open().empty()) {
            next_try_ = std::chrono::steady_clock::now() + reconnect_interval;
            return 0;
        }
        if (on_state_) on_state_(true);
    }
    loop_waiting_.store(false, std::memory_order_relaxed);
    size_t got = 0;
    const uint8_t* frame;
    size_t len;
    while (got < budget && ring_.front(frame, len)) {
        on_frame(frame, len);
        ring_.pop();
        ++got;
    }
    if (got == 0 && rx_failed_) lost("the connection failed");
    return got;
}

}  // namespace hcasim::link
