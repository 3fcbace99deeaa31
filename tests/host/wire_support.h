// What the host-direct wire tests share: whether a device can open a
// libvdeplug link in this build, a fresh temp directory per test, and a
// device whose only peer on its link is the test process itself.
#pragma once

#include "tests/host/device_process.h"

extern "C" {  // libvdeplug.h has no C++ guard
#include <libvdeplug.h>
}
#include <doctest/doctest.h>
#include <infiniband/verbs.h>

#include <stdlib.h>

#include <memory>
#include <string>
#include <vector>

namespace hcasim::test {

// libvdeplug dlopens its plugins (ptp, vde, ...) with RTLD_DEEPBIND, which
// the ASan runtime refuses: under the sanitizers the device cannot open a
// link, so the wire tests run in the normal build only.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kNoVde = true;
#else
inline constexpr bool kNoVde = false;
#endif

// A new directory /tmp/hcasim-PREFIX-XXXXXX (the caller removes it).
inline std::string wire_temp_dir(const char* prefix) {
    std::string tmpl = std::string("/tmp/hcasim-") + prefix + "-XXXXXX";
    REQUIRE(::mkdtemp(tmpl.data()));
    return tmpl;
}

// One hcasim-device on a ptp:// link whose other end (`peer`) this test
// process holds, opened with a context, a PD and a CQ.  The test destroys
// its own QPs and MRs first; this tears down the rest (pending
// completions are drained), stops the device and removes the directory.
struct LinkPeer {
    LinkPeer(const char* prefix, const char* mac, const char* ipv4, int cq_entries)
        : dir(wire_temp_dir(prefix)), link("ptp://" + dir + "/link") {
        device = std::make_unique<DeviceProcess>(
            std::vector<std::string>{"--port", link, "--mac", mac, "--ipv4", ipv4});
        std::vector<char> url(link.begin(), link.end());
        url.push_back('\0');
        peer = vde_open(url.data(), const_cast<char*>("hcasim-test"), nullptr);
        REQUIRE(peer);
        ::setenv("HCASIM_SOCKET", device->socket().c_str(), 1);
        int n = 0;
        list = ibv_get_device_list(&n);
        REQUIRE(n == 1);
        ctx = ibv_open_device(list[0]);
        REQUIRE(ctx);
        pd = ibv_alloc_pd(ctx);
        REQUIRE(pd);
        cq = ibv_create_cq(ctx, cq_entries, nullptr, nullptr, 0);
        REQUIRE(cq);
    }
    ~LinkPeer() {
        ibv_wc drain[64];
        while (ibv_poll_cq(cq, 64, drain) > 0) {
        }
        CHECK(ibv_destroy_cq(cq) == 0);
        CHECK(ibv_dealloc_pd(pd) == 0);
        CHECK(ibv_close_device(ctx) == 0);
        ibv_free_device_list(list);
        vde_close(peer);
        CHECK(device->stop() == 0);
        device.reset();
        std::system(("rm -rf " + dir).c_str());
    }
    LinkPeer(const LinkPeer&) = delete;
    LinkPeer& operator=(const LinkPeer&) = delete;

    std::string dir, link;
    std::unique_ptr<DeviceProcess> device;
    VDECONN* peer = nullptr;
    ibv_device** list = nullptr;
    ibv_context* ctx = nullptr;
    ibv_pd* pd = nullptr;
    ibv_cq* cq = nullptr;
};

}  // namespace hcasim::test
