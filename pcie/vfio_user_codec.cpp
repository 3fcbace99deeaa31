// vfio-user message codec (see vfio_user_codec.h).
#include "pcie/vfio_user_codec.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>

namespace hcasim::vfio_user {

const char* command_name(uint16_t command) {
    static constexpr std::array<const char*, kMaxCommand + 1> names = {
        "INVALID",         "VERSION",          "DMA_MAP",
        "DMA_UNMAP",       "DEVICE_GET_INFO",  "DEVICE_GET_REGION_INFO",
        "GET_REGION_IO_FDS", "DEVICE_GET_IRQ_INFO", "DEVICE_SET_IRQS",
        "REGION_READ",     "REGION_WRITE",     "DMA_READ",
        "DMA_WRITE",       "DEVICE_RESET"};
    return command <= kMaxCommand ? names[command] : "UNKNOWN";
}

int check_header(const Header& h, uint32_t max_size) {
    if (h.msg_size < sizeof(Header)) return EINVAL;
    if (h.msg_size > max_size) return E2BIG;
    const uint32_t type = h.flags & kFlagTypeMask;
    if (type != kFlagTypeCommand && type != kFlagTypeReply) return EINVAL;
    if (h.flags & ~(kFlagTypeMask | kFlagNoReply | kFlagError)) return EINVAL;
    if (type == kFlagTypeCommand && (h.command == 0 || h.command > kMaxCommand))
        return ENOSYS;
    return 0;
}

namespace {

// Fixed payload bytes each request must carry (0: none required).
size_t fixed_request_size(Command c) {
    switch (c) {
    case Command::Version: return sizeof(VersionPayload);
    case Command::DmaMap: return sizeof(DmaMap);
    case Command::DmaUnmap: return sizeof(DmaUnmap);
    case Command::DeviceGetInfo: return sizeof(DeviceInfo);
    case Command::DeviceGetRegionInfo: return sizeof(RegionInfo);
    case Command::DeviceGetIrqInfo: return sizeof(IrqInfo);
    case Command::DeviceSetIrqs: return sizeof(IrqSet);
    case Command::RegionRead:
    case Command::RegionWrite: return sizeof(RegionAccess);
    case Command::DmaRead:
    case Command::DmaWrite: return sizeof(DmaAccess);
    default: return 0;
    }
}

int check_argsz(std::span<const uint8_t> p, size_t fixed) {
    uint32_t argsz = 0;
    if (!read_at(p, 0, argsz)) return EINVAL;
    return argsz < fixed ? EINVAL : 0;
}

int check_version(std::span<const uint8_t> p) {
    if (p.size() == sizeof(VersionPayload)) return 0;
    // The JSON string must be NUL-terminated inside the message.
    return p.back() == '\0' ? 0 : EINVAL;
}

int check_dma_map(const Message& m) {
    DmaMap map{};
    read_at(std::span<const uint8_t>(m.payload), 0, map);
    if (m.fds.size() > 1) return EINVAL;
    if (map.flags & ~(kDmaFlagRead | kDmaFlagWrite)) return EINVAL;
    if (map.size == 0 || map.address + map.size < map.address) return EINVAL;
    if (map.offset + map.size < map.offset) return EINVAL;
    return 0;
}

int check_set_irqs(const Message& m) {
    IrqSet s{};
    read_at(std::span<const uint8_t>(m.payload), 0, s);
    const uint32_t data = s.flags & (kIrqSetDataNone | kIrqSetDataBool | kIrqSetDataEventfd);
    const uint32_t action =
        s.flags & (kIrqSetActionMask | kIrqSetActionUnmask | kIrqSetActionTrigger);
    if (std::popcount(data) != 1 || std::popcount(action) != 1) return EINVAL;
    if (s.flags & ~0x3fu) return EINVAL;
    if (s.start + s.count < s.start) return EINVAL;
    if (data == kIrqSetDataEventfd) {
        if (!m.fds.empty() && m.fds.size() != s.count) return EINVAL;
    } else if (!m.fds.empty()) {
        return EINVAL;
    }
    if (data == kIrqSetDataBool && m.payload.size() < sizeof(IrqSet) + s.count)
        return EINVAL;
    return 0;
}

int check_region_access(const Message& m, bool has_data) {
    RegionAccess a{};
    read_at(std::span<const uint8_t>(m.payload), 0, a);
    if (a.count > kMaxDataXfer) return EINVAL;
    const size_t expect = sizeof(RegionAccess) + (has_data ? a.count : 0);
    return m.payload.size() == expect ? 0 : EINVAL;
}

}  // namespace

int check_request(const Message& m) {
    const auto cmd = static_cast<Command>(m.hdr.command);
    const std::span<const uint8_t> p(m.payload);
    if (p.size() < fixed_request_size(cmd)) return EINVAL;
    if (!m.fds.empty() && cmd != Command::DmaMap && cmd != Command::DeviceSetIrqs)
        return EINVAL;
    switch (cmd) {
    case Command::Version: return check_version(p);
    case Command::DmaMap:
        if (int e = check_argsz(p, sizeof(DmaMap))) return e;
        return check_dma_map(m);
    case Command::DmaUnmap: return check_argsz(p, sizeof(DmaUnmap));
    case Command::DeviceGetInfo: return check_argsz(p, sizeof(DeviceInfo));
    case Command::DeviceGetRegionInfo: return check_argsz(p, sizeof(RegionInfo));
    case Command::DeviceGetIrqInfo: return check_argsz(p, sizeof(IrqInfo));
    case Command::DeviceSetIrqs:
        if (int e = check_argsz(p, sizeof(IrqSet))) return e;
        return check_set_irqs(m);
    case Command::RegionRead: return check_region_access(m, false);
    case Command::RegionWrite: return check_region_access(m, true);
    case Command::DmaRead:
    case Command::DmaWrite: {
        DmaAccess a{};
        read_at(p, 0, a);
        if (a.count > kMaxDataXfer) return EINVAL;
        return 0;
    }
    case Command::DeviceReset: return 0;
    default: return ENOSYS;
    }
}

namespace {

// Waits until fd is readable; false on timeout or error.
bool wait_readable(int fd, int timeout_ms) {
    pollfd pfd{fd, POLLIN, 0};
    for (;;) {
        int r = ::poll(&pfd, 1, timeout_ms);
        if (r > 0) return true;
        if (r == 0) return false;
        if (errno != EINTR) return false;
    }
}

}  // namespace

RecvStatus Endpoint::recv(Message& m, int timeout_ms, int* error) {
    m = Message{};
    auto* hdr_bytes = reinterpret_cast<uint8_t*>(&m.hdr);
    size_t got = 0;
    alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(int) * kMaxMsgFds)];
    while (got < sizeof(Header)) {
        iovec iov{hdr_bytes + got, sizeof(Header) - got};
        msghdr mh{};
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        mh.msg_control = cbuf;
        mh.msg_controllen = sizeof(cbuf);
        ssize_t n = ::recvmsg(fd_, &mh, MSG_CMSG_CLOEXEC);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (!wait_readable(fd_, timeout_ms)) return RecvStatus::Timeout;
                continue;
            }
            return RecvStatus::IoError;
        }
        if (n == 0) return got == 0 ? RecvStatus::Closed : RecvStatus::Malformed;
        for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
            size_t nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < nfds; ++i) {
                int fd;
                std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                m.fds.emplace_back(fd);
            }
        }
        if (mh.msg_flags & MSG_CTRUNC) {
            if (error) *error = EINVAL;
            return RecvStatus::Malformed;
        }
        got += static_cast<size_t>(n);
    }
    if (int e = check_header(m.hdr)) {
        if (error) *error = e;
        return RecvStatus::Malformed;
    }
    m.payload.resize(m.hdr.msg_size - sizeof(Header));
    got = 0;
    while (got < m.payload.size()) {
        if (!wait_readable(fd_, timeout_ms)) return RecvStatus::Timeout;
        ssize_t n = ::recv(fd_, m.payload.data() + got, m.payload.size() - got, 0);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            return RecvStatus::IoError;
        }
        if (n == 0) return RecvStatus::Closed;
        got += static_cast<size_t>(n);
    }
    return RecvStatus::Ok;
}

int Endpoint::send(Header h, std::span<const uint8_t> payload, std::span<const int> fds) {
    if (fds.size() > kMaxMsgFds) return EINVAL;
    h.msg_size = static_cast<uint32_t>(sizeof(Header) + payload.size());
    iovec iov[2] = {{&h, sizeof(h)},
                    {const_cast<uint8_t*>(payload.data()), payload.size()}};
    msghdr mh{};
    mh.msg_iov = iov;
    mh.msg_iovlen = payload.empty() ? 1 : 2;
    alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(int) * kMaxMsgFds)];
    if (!fds.empty()) {
        mh.msg_control = cbuf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
        cmsghdr* c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
        std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    }
    size_t total = sizeof(h) + payload.size();
    size_t sent = 0;
    while (sent < total) {
        ssize_t n = ::sendmsg(fd_, &mh, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) {
                pollfd pfd{fd_, POLLOUT, 0};
                ::poll(&pfd, 1, 1000);
                continue;
            }
            return errno;
        }
        sent += static_cast<size_t>(n);
        if (sent >= total) break;
        // Partial send: advance the iovecs; fds went with the first bytes.
        mh.msg_control = nullptr;
        mh.msg_controllen = 0;
        size_t skip = static_cast<size_t>(n);
        while (skip > 0 && mh.msg_iovlen > 0) {
            if (skip >= mh.msg_iov[0].iov_len) {
                skip -= mh.msg_iov[0].iov_len;
                ++mh.msg_iov;
                --mh.msg_iovlen;
            } else {
                mh.msg_iov[0].iov_base = static_cast<uint8_t*>(mh.msg_iov[0].iov_base) + skip;
                mh.msg_iov[0].iov_len -= skip;
                skip = 0;
            }
        }
    }
    return 0;
}

}  // namespace hcasim::vfio_user
