// vfio-user message codec: framing messages (header + payload + fds) on an
// AF_UNIX stream socket, and validating headers and per-command payloads
// before any handler sees them.  Framing comes in two forms: incremental
// and never blocking for the device's server (MessageReader, Outbox: a
// message may arrive or leave in any number of pieces), and blocking for
// clients (Endpoint).
//
// Source: vfio-user spec §Header, §Message sizes; the validation rules are
// the ones a server must apply so that a truncated, oversized or
// inconsistent message gets an error instead of a crash.
#pragma once

#include "common/unique_fd.h"
#include "vfio_user/protocol.h"

#include <cstdint>
#include <cstring>
#include <list>
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

// Result of receiving one message.  Again: only from MessageReader (the
// socket has nothing more for now).  Timeout: only from Endpoint::recv.
enum class RecvStatus { Ok, Again, Closed, Malformed, Timeout, IoError };

// Assembles messages from a stream socket without ever blocking: each
// read() takes what the socket has, but never more than the rest of the
// message being assembled, so the fds (SCM_RIGHTS, MSG_CMSG_CLOEXEC) that
// come with its bytes are its own.  A message may arrive in any number of
// pieces; between them the partial message stays buffered here.
class MessageReader {
public:
    // Ok: `out` is a whole message (more may be waiting: call again).
    // Again: nothing more to read for now.  Closed: the peer closed the
    // socket (partial() says whether it was mid-message).  Malformed: the
    // header failed check_header (`error` holds its errno and `out.hdr` the
    // header) or too many fds came; the stream is no longer framed.
    // IoError: recvmsg failed (`error` holds errno).
    RecvStatus read(int fd, Message& out, int* error = nullptr);

    // Some bytes of the next message have arrived, not all of them.
    bool partial() const { return got_ > 0; }
    // Bytes received since construction (a stalled peer does not move it).
    uint64_t bytes_received() const { return total_; }

private:
    RecvStatus malformed(Message& out, int e, int* error);

    Message cur_;
    size_t got_ = 0;  // bytes of cur_ so far, header included
    uint64_t total_ = 0;
};

// Outgoing messages of one connection, sent without blocking: what the
// socket does not take now is queued (fds stay with the header bytes, as
// QEMU reads them) and flush() sends it once the socket is writable.
class Outbox {
public:
    explicit Outbox(size_t max_bytes = SIZE_MAX, size_t max_messages = SIZE_MAX)
        : max_bytes_(max_bytes), max_messages_(max_messages) {}

    // Sends header + payload (+fds); fills msg_size.  Returns 0 (sent, or
    // queued behind earlier messages or the socket's limit), ENOBUFS (the
    // queue would pass its bounds: the peer does not read), EINVAL (too
    // many fds) or the socket's errno.
    int send(int fd, Header h, std::span<const uint8_t> payload, std::span<const int> fds = {});
    // Sends queued bytes until the queue is empty (0) or the socket is
    // full (EAGAIN); otherwise the socket's errno.
    int flush(int fd);

    bool empty() const { return queue_.empty(); }
    size_t queued_bytes() const { return bytes_; }
    size_t queued_messages() const { return queue_.size(); }

private:
    struct Pending {
        std::vector<uint8_t> bytes;  // header + payload
        std::vector<UniqueFd> fds;   // sent with the first byte
        size_t sent = 0;
    };
    int enqueue(std::span<const uint8_t> head, std::span<const uint8_t> tail,
                std::span<const int> fds, bool committed = false);

    std::list<Pending> queue_;  // no allocation while empty (Endpoint::send)
    size_t bytes_ = 0;
    size_t max_bytes_, max_messages_;
};

// Blocking framed I/O on a connected AF_UNIX stream socket, for clients
// (the host-direct transport, tests): a client may wait, the device's
// server never does (it uses MessageReader and Outbox on its event loop).
class Endpoint {
public:
    explicit Endpoint(int fd) : fd_(fd) {}
    int fd() const { return fd_; }

    // Receives one whole message, waiting at most timeout_ms for each
    // piece.  A partial message survives a Timeout in this Endpoint (the
    // next recv goes on with it).  On Malformed, `error` holds the errno
    // from check_header and the stream is no longer framed.
    RecvStatus recv(Message& m, int timeout_ms, int* error = nullptr);

    // Sends header + payload (fds attached to the header bytes, as QEMU
    // reads them), waiting while the socket is full.  Fills msg_size.
    // Returns 0 or errno.
    int send(Header h, std::span<const uint8_t> payload,
             std::span<const int> fds = {});

private:
    int fd_;
    MessageReader reader_;
};

}  // namespace hcasim::vfio_user
