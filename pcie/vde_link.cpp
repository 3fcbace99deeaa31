// libvdeplug link of the port (see vde_link.h).
#include "pcie/vde_link.h"

extern "C" {  // libvdeplug.h has no C++ guard
#include <libvdeplug.h>
}

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace hcasim::pcie {

std::string VdeLink::open() {
    close();
    std::vector<char> url(url_.begin(), url_.end());
    url.push_back('\0');
    errno = 0;
    conn_ = vde_open(url.data(), const_cast<char*>("hcasim-device"), nullptr);
    if (!conn_) return errno ? std::strerror(errno) : "cannot connect";
    const int fd = vde_datafd(conn_);
    if (fd >= 0) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    ++generation_;
    return "";
}

void VdeLink::close() {
    if (conn_) vde_close(conn_);
    conn_ = nullptr;
}

int VdeLink::data_fd() const { return conn_ ? vde_datafd(conn_) : -1; }
int VdeLink::ctl_fd() const { return conn_ ? vde_ctlfd(conn_) : -1; }

void VdeLink::lost(const char*) {
    close();
    next_try_ = std::chrono::steady_clock::now() + reconnect_interval;
    if (on_state_) on_state_(false);
}

bool VdeLink::send(const uint8_t* frame, size_t len) {
    if (!conn_) {
        ++send_drops_;
        return false;
    }
    const ssize_t n = vde_send(conn_, frame, len, 0);
    if (n < 0) {
        ++send_drops_;
        if (errno == ECONNREFUSED || errno == ENOTCONN || errno == EPIPE || errno == ECONNRESET ||
            errno == ENOENT)
            lost("send");
        return false;
    }
    return true;
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
    // The switch closes the control connection when it goes away.
    if (const int cfd = vde_ctlfd(conn_); cfd >= 0) {
        pollfd p{cfd, POLLIN, 0};
        if (::poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR))) {
            char c;
            const ssize_t r = ::recv(cfd, &c, 1, MSG_DONTWAIT | MSG_PEEK);
            if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
                lost("control connection closed");
                return 0;
            }
        }
    }
    size_t got = 0;
    while (got < budget) {
        const ssize_t n = vde_recv(conn_, buf_.data(), buf_.size(), MSG_DONTWAIT);
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) lost("recv");
            break;
        }
        if (n == 0) break;
        ++got;
        on_frame(buf_.data(), static_cast<size_t>(n));
    }
    return got;
}

}  // namespace hcasim::pcie
