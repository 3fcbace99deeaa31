// vfio-user message codec (see vfio_user_codec.h).
#include "vfio_user/codec.h"

#include <fcntl.h>
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

// Waits until fd is ready for `events`; false on timeout or error.
bool wait_ready(int fd, short events, int timeout_ms) {
    pollfd pfd{fd, events, 0};
    for (;;) {
        int r = ::poll(&pfd, 1, timeout_ms);
        if (r > 0) return true;
        if (r == 0) return false;
        if (errno != EINTR) return false;
    }
}

// One non-blocking sendmsg of `iov` with `fds` (if any) attached.
// Returns the bytes sent or -errno.
ssize_t send_once(int fd, iovec* iov, size_t iovcnt, std::span<const int> fds) {
    msghdr mh{};
    mh.msg_iov = iov;
    mh.msg_iovlen = iovcnt;
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
    for (;;) {
        ssize_t n = ::sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n >= 0) return n;
        if (errno != EINTR) return -errno;
    }
}

}  // namespace

// The header is reported; what was buffered is dropped (the next read
// starts a new message, though the stream has lost its framing).
RecvStatus MessageReader::malformed(Message& out, int e, int* error) {
    if (error) *error = e;
    out.hdr = cur_.hdr;
    cur_ = Message{};
    got_ = 0;
    return RecvStatus::Malformed;
}

RecvStatus MessageReader::read(int fd, Message& out, int* error) {
    alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(int) * kMaxMsgFds)];
    for (;;) {
        // Never past the end of this message: its fds stay its own.
        uint8_t* dst;
        size_t want;
        if (got_ < sizeof(Header)) {
            dst = reinterpret_cast<uint8_t*>(&cur_.hdr) + got_;
            want = sizeof(Header) - got_;
        } else {
            dst = cur_.payload.data() + (got_ - sizeof(Header));
            want = cur_.hdr.msg_size - got_;
        }
        iovec iov{dst, want};
        msghdr mh{};
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        mh.msg_control = cbuf;
        mh.msg_controllen = sizeof(cbuf);
        ssize_t n = ::recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return RecvStatus::Again;
            if (error) *error = errno;
            cur_ = Message{};
            got_ = 0;
            return RecvStatus::IoError;
        }
        if (n == 0) return RecvStatus::Closed;
        for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
            const size_t nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < nfds; ++i) {
                int f;
                std::memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                cur_.fds.emplace_back(f);
            }
        }
        got_ += static_cast<size_t>(n);
        total_ += static_cast<uint64_t>(n);
        if ((mh.msg_flags & MSG_CTRUNC) || cur_.fds.size() > kMaxMsgFds)
            return malformed(out, EINVAL, error);
        if (got_ == sizeof(Header)) {
            if (int e = check_header(cur_.hdr)) return malformed(out, e, error);
            cur_.payload.resize(cur_.hdr.msg_size - sizeof(Header));
        }
        if (got_ >= sizeof(Header) && got_ == cur_.hdr.msg_size) {
            out = std::move(cur_);
            cur_ = Message{};
            got_ = 0;
            return RecvStatus::Ok;
        }
    }
}

int Outbox::enqueue(std::span<const uint8_t> head, std::span<const uint8_t> tail,
                    std::span<const int> fds, bool committed) {
    const size_t len = head.size() + tail.size();
    // A message partly sent already must be queued whatever the bounds.
    if (!committed && (queue_.size() + 1 > max_messages_ ||
                       len > max_bytes_ - std::min(bytes_, max_bytes_)))
        return ENOBUFS;
    Pending p;
    p.bytes.reserve(len);
    p.bytes.insert(p.bytes.end(), head.begin(), head.end());
    p.bytes.insert(p.bytes.end(), tail.begin(), tail.end());
    for (int f : fds) {
        UniqueFd dup(::fcntl(f, F_DUPFD_CLOEXEC, 0));
        if (!dup) return errno;
        p.fds.push_back(std::move(dup));
    }
    bytes_ += len;
    queue_.push_back(std::move(p));
    return 0;
}

int Outbox::send(int fd, Header h, std::span<const uint8_t> payload, std::span<const int> fds) {
    if (fds.size() > kMaxMsgFds) return EINVAL;
    h.msg_size = static_cast<uint32_t>(sizeof(Header) + payload.size());
    const std::span<const uint8_t> head(reinterpret_cast<const uint8_t*>(&h), sizeof(h));
    if (!queue_.empty()) {  // behind earlier messages
        if (int e = enqueue(head, payload, fds)) return e;
        const int e = flush(fd);
        return e == EAGAIN ? 0 : e;
    }
    iovec iov[2] = {{&h, sizeof(h)}, {const_cast<uint8_t*>(payload.data()), payload.size()}};
    const ssize_t n = send_once(fd, iov, payload.empty() ? 1 : 2, fds);
    if (n == -EAGAIN || n == -EWOULDBLOCK) return enqueue(head, payload, fds);
    if (n < 0) return static_cast<int>(-n);
    const size_t sent = static_cast<size_t>(n);
    if (sent == h.msg_size) return 0;
    // Partly sent: the fds went with the first bytes; queue the rest.
    if (sent < head.size()) return enqueue(head.subspan(sent), payload, {}, true);
    return enqueue({}, payload.subspan(sent - head.size()), {}, true);
}

int Outbox::flush(int fd) {
    while (!queue_.empty()) {
        Pending& p = queue_.front();
        std::vector<int> fds;
        if (p.sent == 0)
            for (const auto& f : p.fds) fds.push_back(f.get());
        iovec iov{p.bytes.data() + p.sent, p.bytes.size() - p.sent};
        const ssize_t n = send_once(fd, &iov, 1, fds);
        if (n == -EAGAIN || n == -EWOULDBLOCK) return EAGAIN;
        if (n < 0) return static_cast<int>(-n);
        p.sent += static_cast<size_t>(n);
        bytes_ -= static_cast<size_t>(n);
        if (p.sent > 0) p.fds.clear();
        if (p.sent == p.bytes.size()) queue_.pop_front();
    }
    return 0;
}

RecvStatus Endpoint::recv(Message& m, int timeout_ms, int* error) {
    for (;;) {
        const RecvStatus st = reader_.read(fd_, m, error);
        if (st != RecvStatus::Again) return st;
        if (!wait_ready(fd_, POLLIN, timeout_ms)) return RecvStatus::Timeout;
    }
}

int Endpoint::send(Header h, std::span<const uint8_t> payload, std::span<const int> fds) {
    Outbox out;
    int e = out.send(fd_, h, payload, fds);
    while (e == 0 && !out.empty()) {
        wait_ready(fd_, POLLOUT, -1);
        e = out.flush(fd_);
        if (e == EAGAIN) e = 0;
    }
    return e;
}

}  // namespace hcasim::vfio_user
