// vfio-user message codec: header checks, per-command payload checks, and
// framing over a real socketpair (truncated, oversized, inconsistent), both
// blocking (Endpoint) and incremental (MessageReader, Outbox: messages in
// pieces, fds with their own message, a full socket, a bounded queue).
#include "vfio_user/codec.h"
#include "tests/unit/vfio_user_pieces.h"

#include <doctest/doctest.h>

#include <cerrno>
#include <cstring>
#include <span>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace hcasim;
using namespace hcasim::vfio_user;

namespace {

Message request(Command c, std::vector<uint8_t> payload) {
    Message m;
    m.hdr = {1, static_cast<uint16_t>(c),
             static_cast<uint32_t>(sizeof(Header) + payload.size()), kFlagTypeCommand, 0};
    m.payload = std::move(payload);
    return m;
}

template <class T>
std::vector<uint8_t> bytes(const T& v) {
    std::vector<uint8_t> b;
    append(b, v);
    return b;
}

struct SocketPair {
    int fd[2];
    SocketPair() { REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fd) == 0); }
    ~SocketPair() {
        for (int f : fd)
            if (f >= 0) ::close(f);
    }
};

}  // namespace

TEST_CASE("header: size, type and command are checked") {
    CHECK(check_header({1, 1, 16, kFlagTypeCommand, 0}) == 0);
    CHECK(check_header({1, 1, 15, kFlagTypeCommand, 0}) == EINVAL);          // below header
    CHECK(check_header({1, 1, kMaxMessageSize + 1, kFlagTypeCommand, 0}) == E2BIG);
    CHECK(check_header({1, 1, 16, 0x7, 0}) == EINVAL);                       // bad type
    CHECK(check_header({1, 1, 16, kFlagTypeCommand | 0x100, 0}) == EINVAL);  // unknown flag
    CHECK(check_header({1, 0, 16, kFlagTypeCommand, 0}) == ENOSYS);
    CHECK(check_header({1, 99, 16, kFlagTypeCommand, 0}) == ENOSYS);
    CHECK(check_header({1, 99, 16, kFlagTypeReply, 0}) == 0);  // replies echo any command
}

TEST_CASE("requests: fixed parts must be present") {
    CHECK(check_request(request(Command::DmaMap, std::vector<uint8_t>(31))) == EINVAL);
    CHECK(check_request(request(Command::DeviceGetRegionInfo, std::vector<uint8_t>(8))) == EINVAL);
    CHECK(check_request(request(Command::RegionRead, {})) == EINVAL);
    CHECK(check_request(request(Command::DeviceReset, {})) == 0);
}

TEST_CASE("VERSION: JSON must be NUL-terminated inside the message") {
    auto p = bytes(VersionPayload{0, 0});
    CHECK(check_request(request(Command::Version, p)) == 0);
    p.push_back('{');
    p.push_back('}');
    CHECK(check_request(request(Command::Version, p)) == EINVAL);
    p.push_back('\0');
    CHECK(check_request(request(Command::Version, p)) == 0);
}

TEST_CASE("DMA_MAP: argsz, flags, wrap-around and fd count") {
    DmaMap map{sizeof(DmaMap), kDmaFlagRead | kDmaFlagWrite, 0, 0x1000, 0x1000};
    CHECK(check_request(request(Command::DmaMap, bytes(map))) == 0);
    DmaMap bad = map;
    bad.argsz = 8;
    CHECK(check_request(request(Command::DmaMap, bytes(bad))) == EINVAL);
    bad = map;
    bad.flags = 0x80;
    CHECK(check_request(request(Command::DmaMap, bytes(bad))) == EINVAL);
    bad = map;
    bad.size = 0;
    CHECK(check_request(request(Command::DmaMap, bytes(bad))) == EINVAL);
    bad = map;
    bad.address = ~0ull - 10;
    CHECK(check_request(request(Command::DmaMap, bytes(bad))) == EINVAL);
    Message two = request(Command::DmaMap, bytes(map));
    two.fds.emplace_back(::eventfd(0, 0));
    two.fds.emplace_back(::eventfd(0, 0));
    CHECK(check_request(two) == EINVAL);
}

TEST_CASE("fds are only accepted where the command allows them") {
    Message m = request(Command::DeviceGetInfo, bytes(DeviceInfo{16, 0, 0, 0}));
    CHECK(check_request(m) == 0);
    m.fds.emplace_back(::eventfd(0, 0));
    CHECK(check_request(m) == EINVAL);
}

TEST_CASE("REGION_WRITE: count must match the data that follows") {
    RegionAccess a{0, 0, 4};
    auto p = bytes(a);
    p.resize(p.size() + 4);
    CHECK(check_request(request(Command::RegionWrite, p)) == 0);
    p.resize(p.size() - 1);  // one byte short
    CHECK(check_request(request(Command::RegionWrite, p)) == EINVAL);
    RegionAccess huge{0, 0, kMaxDataXfer + 1};
    CHECK(check_request(request(Command::RegionRead, bytes(huge))) == EINVAL);
    RegionAccess rd{0, 0, 4};
    auto rp = bytes(rd);
    rp.push_back(0);  // a read carries no data
    CHECK(check_request(request(Command::RegionRead, rp)) == EINVAL);
}

TEST_CASE("SET_IRQS: exactly one data type and one action; fds match count") {
    IrqSet s{sizeof(IrqSet), kIrqSetDataEventfd | kIrqSetActionTrigger, kIrqMsix, 0, 2};
    Message m = request(Command::DeviceSetIrqs, bytes(s));
    CHECK(check_request(m) == 0);  // no fds = de-assign
    m.fds.emplace_back(::eventfd(0, 0));
    CHECK(check_request(m) == EINVAL);  // 1 fd for count 2
    m.fds.emplace_back(::eventfd(0, 0));
    CHECK(check_request(m) == 0);
    IrqSet two_data = s;
    two_data.flags = kIrqSetDataEventfd | kIrqSetDataNone | kIrqSetActionTrigger;
    CHECK(check_request(request(Command::DeviceSetIrqs, bytes(two_data))) == EINVAL);
    IrqSet wrap = s;
    wrap.start = ~0u;
    CHECK(check_request(request(Command::DeviceSetIrqs, bytes(wrap))) == EINVAL);
}

TEST_CASE("framing: a whole message with an fd round-trips") {
    SocketPair sp;
    Endpoint a(sp.fd[0]), b(sp.fd[1]);
    int efd = ::eventfd(0, 0);
    const int fds[1] = {efd};
    DmaMap map{sizeof(DmaMap), 3, 0, 0x1000, 0x1000};
    REQUIRE(a.send({7, 2, 0, kFlagTypeCommand, 0}, bytes(map), fds) == 0);
    ::close(efd);
    Message m;
    REQUIRE(b.recv(m, 1000) == RecvStatus::Ok);
    CHECK(m.hdr.msg_id == 7);
    CHECK(m.hdr.msg_size == sizeof(Header) + sizeof(DmaMap));
    CHECK(m.fds.size() == 1);
    CHECK(check_request(m) == 0);
}

TEST_CASE("framing: truncated message times out, closed peer is reported") {
    SocketPair sp;
    Header h{1, 1, 64, kFlagTypeCommand, 0};  // claims 48 payload bytes
    REQUIRE(::write(sp.fd[0], &h, sizeof(h)) == sizeof(h));
    REQUIRE(::write(sp.fd[0], "abcd", 4) == 4);
    Message m;
    Endpoint b(sp.fd[1]);
    CHECK(b.recv(m, 100) == RecvStatus::Timeout);
    SocketPair sp2;
    ::close(sp2.fd[0]);
    sp2.fd[0] = -1;
    Endpoint c(sp2.fd[1]);
    CHECK(c.recv(m, 100) == RecvStatus::Closed);
}

TEST_CASE("framing: oversized and undersized headers are malformed") {
    SocketPair sp;
    Endpoint b(sp.fd[1]);
    Message m;
    int err = 0;
    Header big{1, 10, 0x7fffffff, kFlagTypeCommand, 0};
    REQUIRE(::write(sp.fd[0], &big, sizeof(big)) == sizeof(big));
    CHECK(b.recv(m, 100, &err) == RecvStatus::Malformed);
    CHECK(err == E2BIG);
    Header small{1, 10, 4, kFlagTypeCommand, 0};
    REQUIRE(::write(sp.fd[0], &small, sizeof(small)) == sizeof(small));
    CHECK(b.recv(m, 100, &err) == RecvStatus::Malformed);
    CHECK(err == EINVAL);
}

// ---- Incremental framing (the server's MessageReader and Outbox) --------

using hcasim::test::wire;
using hcasim::test::write_piece;

TEST_CASE("reader: a message in pieces; its fd comes with the first piece") {
    SocketPair sp;
    MessageReader r;
    Message m;
    CHECK(r.read(sp.fd[1], m) == RecvStatus::Again);
    CHECK_FALSE(r.partial());
    const auto w = wire(7, Command::DmaMap, bytes(DmaMap{sizeof(DmaMap), 3, 0, 0x1000, 0x1000}));
    UniqueFd efd(::eventfd(0, 0));
    const std::span<const uint8_t> all(w);
    write_piece(sp.fd[0], all.subspan(0, 5), efd.get());  // part of the header
    CHECK(r.read(sp.fd[1], m) == RecvStatus::Again);
    CHECK(r.partial());
    write_piece(sp.fd[0], all.subspan(5, 20));  // rest of the header, some payload
    CHECK(r.read(sp.fd[1], m) == RecvStatus::Again);
    CHECK(r.bytes_received() == 25);
    write_piece(sp.fd[0], all.subspan(25));
    REQUIRE(r.read(sp.fd[1], m) == RecvStatus::Ok);
    CHECK_FALSE(r.partial());
    CHECK(m.hdr.msg_id == 7);
    CHECK(m.payload.size() == sizeof(DmaMap));
    CHECK(m.fds.size() == 1);
    CHECK(check_request(m) == 0);
    CHECK(r.read(sp.fd[1], m) == RecvStatus::Again);
}

TEST_CASE("reader: back-to-back messages stay apart, each with its own fds") {
    SocketPair sp;
    const auto a = wire(1, Command::DeviceGetInfo, bytes(DeviceInfo{16, 0, 0, 0}));
    const auto b = wire(2, Command::DmaMap, bytes(DmaMap{sizeof(DmaMap), 3, 0, 0x1000, 0x1000}));
    const auto c = wire(3, Command::DeviceReset, {});
    UniqueFd efd(::eventfd(0, 0));
    write_piece(sp.fd[0], a);
    write_piece(sp.fd[0], b, efd.get());
    write_piece(sp.fd[0], c);
    MessageReader r;
    Message m;
    REQUIRE(r.read(sp.fd[1], m) == RecvStatus::Ok);
    CHECK(m.hdr.msg_id == 1);
    CHECK(m.fds.empty());
    REQUIRE(r.read(sp.fd[1], m) == RecvStatus::Ok);
    CHECK(m.hdr.msg_id == 2);
    CHECK(m.fds.size() == 1);
    REQUIRE(r.read(sp.fd[1], m) == RecvStatus::Ok);
    CHECK(m.hdr.msg_id == 3);
    CHECK(m.fds.empty());
    CHECK(m.payload.empty());
    CHECK(r.read(sp.fd[1], m) == RecvStatus::Again);
}

TEST_CASE("reader: a bad header is malformed once complete; a close mid-message is seen") {
    SocketPair sp;
    MessageReader r;
    Message m;
    int err = 0;
    std::vector<uint8_t> big;
    append(big, Header{1, 10, 0x7fffffff, kFlagTypeCommand, 0});
    write_piece(sp.fd[0], std::span<const uint8_t>(big).subspan(0, 10));
    CHECK(r.read(sp.fd[1], m, &err) == RecvStatus::Again);
    write_piece(sp.fd[0], std::span<const uint8_t>(big).subspan(10));
    CHECK(r.read(sp.fd[1], m, &err) == RecvStatus::Malformed);
    CHECK(err == E2BIG);
    CHECK(m.hdr.msg_size == 0x7fffffff);

    SocketPair sp2;
    MessageReader r2;
    const auto w = wire(4, Command::DeviceGetInfo, bytes(DeviceInfo{16, 0, 0, 0}));
    write_piece(sp2.fd[0], std::span<const uint8_t>(w).subspan(0, 20));
    CHECK(r2.read(sp2.fd[1], m) == RecvStatus::Again);
    ::close(sp2.fd[0]);
    sp2.fd[0] = -1;
    CHECK(r2.read(sp2.fd[1], m) == RecvStatus::Closed);
    CHECK(r2.partial());
}

TEST_CASE("outbox: what the socket does not take waits, in order, fds with their header; bounded") {
    SocketPair sp;
    const int sndbuf = 4096;
    REQUIRE(::setsockopt(sp.fd[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) == 0);
    constexpr size_t kPayload = 16384;
    Outbox ob(8 * (sizeof(Header) + kPayload), 1000);
    std::vector<uint8_t> payload(kPayload);
    uint16_t id = 0;
    // Until the socket is full: nothing queued yet, then the rest waits.
    while (ob.empty() && id < 1000) {
        payload.assign(kPayload, static_cast<uint8_t>(id));
        REQUIRE(ob.send(sp.fd[0], {id++, 10, 0, kFlagTypeReply, 0}, payload) == 0);
    }
    REQUIRE_FALSE(ob.empty());
    const uint16_t fd_id = id;
    UniqueFd efd(::eventfd(0, 0));
    const int fds[1] = {efd.get()};
    REQUIRE(ob.send(sp.fd[0], {id++, 5, 0, kFlagTypeReply, 0}, {}, fds) == 0);
    efd.reset();  // the queue holds its own copy
    int e = 0;
    for (; id < 1000; ++id) {
        payload.assign(kPayload, static_cast<uint8_t>(id));
        if ((e = ob.send(sp.fd[0], {id, 10, 0, kFlagTypeReply, 0}, payload)) != 0) break;
    }
    CHECK(e == ENOBUFS);  // the peer does not read: the bound is reached
    CHECK(ob.queued_bytes() <= 8 * (sizeof(Header) + kPayload));
    CHECK(ob.flush(sp.fd[0]) == EAGAIN);
    // The peer reads: everything arrives, in order, the fd with its message.
    MessageReader r;
    uint16_t next = 0;
    while (next < id) {
        Message m;
        const RecvStatus st = r.read(sp.fd[1], m);
        if (st == RecvStatus::Again) {
            const int f = ob.flush(sp.fd[0]);
            REQUIRE((f == 0 || f == EAGAIN));
            continue;
        }
        REQUIRE(st == RecvStatus::Ok);
        CHECK(m.hdr.msg_id == next);
        if (next == fd_id) {
            CHECK(m.fds.size() == 1);
            CHECK(m.payload.empty());
        } else {
            CHECK(m.fds.empty());
            REQUIRE(m.payload.size() == kPayload);
            CHECK(m.payload[kPayload - 1] == static_cast<uint8_t>(next));
        }
        ++next;
    }
    CHECK(ob.empty());
    CHECK(ob.queued_bytes() == 0);
}

TEST_CASE("endpoint: a partial message survives a timeout") {
    SocketPair sp;
    const auto w = wire(9, Command::DeviceGetInfo, bytes(DeviceInfo{16, 0, 0, 0}));
    write_piece(sp.fd[0], std::span<const uint8_t>(w).subspan(0, 6));
    Endpoint b(sp.fd[1]);
    Message m;
    CHECK(b.recv(m, 10) == RecvStatus::Timeout);
    write_piece(sp.fd[0], std::span<const uint8_t>(w).subspan(6));
    REQUIRE(b.recv(m, 1000) == RecvStatus::Ok);
    CHECK(m.hdr.msg_id == 9);
    CHECK(m.payload.size() == sizeof(DeviceInfo));
}
