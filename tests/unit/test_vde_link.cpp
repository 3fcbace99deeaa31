// Unit tests of port 1's libvdeplug link (link/vde_link.h) on a ptp://
// point-to-point link, against a peer this test opens with libvdeplug
// itself: a peer that is not there yet, or that goes and comes back, costs
// the frames sent meanwhile and never our own socket (closing it would
// unlink the path the peer connects to). reconnect_interval is an hour, so
// nothing here can pass by reopening.
#include <doctest/doctest.h>

extern "C" {
#include <libvdeplug.h>  // a C header without its own extern "C"
}
#include <poll.h>
#include <sys/stat.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "link/vde_link.h"

using namespace hcasim;
using SendResult = device::FrameLink::SendResult;

namespace {

// libvdeplug dlopens its plugins with RTLD_DEEPBIND, which the ASan runtime
// refuses (it aborts the process): this test runs in the normal build only,
// as the host wire tests do (tests/host/wire_support.h).
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kNoVde = true;
#else
constexpr bool kNoVde = false;
#endif

struct TempDir {
    std::string path;
    TempDir()
    {
        char tmpl[] = "/tmp/hcasim-vdelink-XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        path = tmpl;
    }
    ~TempDir() { std::filesystem::remove_all(path); }
};

VDECONN* open_peer(const std::string& url)
{
    std::string u = url;
    return vde_open(u.data(), const_cast<char*>("test-peer"), nullptr);
}

// The next frame the peer gets (blocking: the link sent it first).
ssize_t peer_recv(VDECONN* peer)
{
    std::array<std::uint8_t, 256> buf{};
    pollfd p{vde_datafd(peer), POLLIN, 0};
    REQUIRE(::poll(&p, 1, 10000) == 1);  // a bound, not a timing: the frame was sent before
    return vde_recv(peer, buf.data(), buf.size(), 0);
}

}  // namespace

TEST_CASE("vde link: a ptp:// peer that is absent, then goes and comes back, costs frames, never our socket" *
          doctest::skip(kNoVde))
{
    TempDir dir;
    const std::string path = dir.path + "/link", url = "ptp://" + path;
    link::VdeLink link(url);
    link.reconnect_interval = std::chrono::hours(1);
    REQUIRE(link.open().empty());
    std::array<std::uint8_t, 60> frame{};
    frame[12] = 0x08;

    // No peer yet: the frame is dropped, the link stays up and bound.
    CHECK(link.send(frame.data(), frame.size()) == SendResult::Dropped);
    CHECK(link.up());
    CHECK(std::filesystem::exists(path));

    // A peer opens: frames go both ways.
    VDECONN* peer = open_peer(url);
    REQUIRE(peer != nullptr);
    CHECK(link.send(frame.data(), frame.size()) == SendResult::Sent);
    CHECK(peer_recv(peer) == static_cast<ssize_t>(frame.size()));
    CHECK(vde_send(peer, frame.data(), frame.size(), 0) == static_cast<ssize_t>(frame.size()));
    pollfd p{link.wake_fd(), POLLIN, 0};
    link.prepare_wait();
    REQUIRE(::poll(&p, 1, 10000) == 1);
    std::size_t got = 0;
    link.pump([&](const std::uint8_t*, std::size_t len) { got += len == frame.size(); });
    CHECK(got == 1);

    // The peer goes: a frame is dropped, nothing else; it comes back (its
    // open would fail if our socket were gone from the path) and is reached.
    vde_close(peer);
    CHECK(link.send(frame.data(), frame.size()) == SendResult::Dropped);
    CHECK(link.up());
    peer = open_peer(url);
    REQUIRE(peer != nullptr);
    CHECK(link.send(frame.data(), frame.size()) == SendResult::Sent);
    CHECK(peer_recv(peer) == static_cast<ssize_t>(frame.size()));
    CHECK(link.generation() == 1);  // never reopened
    vde_close(peer);
}
