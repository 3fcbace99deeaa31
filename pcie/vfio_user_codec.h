// vfio-user message codec: framing a message (header + payload + fds) on an
// AF_UNIX stream socket, and validating headers and per-command payloads
// before any handler sees them.
//
// Source: vfio-user spec §Header, §Message sizes; the validation rules are
// the ones a server must apply so that a truncated, oversized or
// inconsistent message gets an error instead of a crash.
#pragma once

#include "common/unique_fd.h"
#include "pcie/vfio_user_protocol.h"

#include <cstring>
#include <span>
#include <string>
#include <vector>

namespace hcasim::vfio_user {

struct Message {
    Header hdr{};
    std::vector<uint8_t> payload;
    std::vector<UniqueFd> fds;

    bool is_reply() const { return (hdr.flags & kFlagTypeMask) == kFlagTypeReply; }
    bool no_reply() const { return (hdr.flags & kFlagNoReply) != 0; }
    bool is_error() const { return (hdr.flags & kFlagError) != 0; }
};

// Checks a received header on its own: size within [16, max_size], a known
// message type, a known command.  Returns 0 or an errno:
// EINVAL (size below the header, unknown type), E2BIG (size above
// max_size), ENOSYS (unknown command number in a request).
int check_header(const Header& h, uint32_t max_size = kMaxMessageSize);

// Checks a request's payload against its command's layout: the fixed part
// is present, argsz covers the struct, trailing data matches its count,
// fds are only where the command allows them.  Returns 0 or EINVAL.
int check_request(const Message& m);

// Reads a T at byte offset `off` of `payload`; false if it does not fit.
template <class T>
bool read_at(std::span<const uint8_t> payload, size_t off, T& out) {
    if (off > payload.size() || payload.size() - off < sizeof(T)) return false;
    std::memcpy(&out, payload.data() + off, sizeof(T));
    return true;
}

template <class T>
void append(std::vector<uint8_t>& buf, const T& v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    buf.insert(buf.end(), p, p + sizeof(T));
}

// Result of receiving one message.
enum class RecvStatus { Ok, Closed, Malformed, Timeout, IoError };

// Blocking framed I/O on a connected AF_UNIX stream socket.
class Endpoint {
public:
    explicit Endpoint(int fd) : fd_(fd) {}
    int fd() const { return fd_; }

    // Receives one whole message; the payload read waits at most
    // timeout_ms once the header has arrived.  On Malformed, `error` holds
    // the errno from check_header and the stream is no longer framed.
    RecvStatus recv(Message& m, int timeout_ms, int* error = nullptr);

    // Sends header + payload in one sendmsg (fds attached to the header
    // bytes, as QEMU reads them).  Fills msg_size.  Returns 0 or errno.
    int send(Header h, std::span<const uint8_t> payload,
             std::span<const int> fds = {});

private:
    int fd_;
};

}  // namespace hcasim::vfio_user
