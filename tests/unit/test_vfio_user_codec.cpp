// vfio-user message codec: header checks, per-command payload checks, and
// framing over a real socketpair (truncated, oversized, inconsistent).
#include "pcie/vfio_user_codec.h"

#include <doctest/doctest.h>

#include <cerrno>
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
