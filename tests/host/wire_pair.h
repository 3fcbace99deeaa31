// Two hcasim-device processes whose ports share one ptp:// wire, both
// opened by this test process (HCASIM_SOCKET=a:b): the host-direct wire
// tests' fixture.  Each device writes a pcap capture in the test's
// directory; extra device arguments (e.g. --wire-faults) go per side.
#pragma once

#include "tests/host/device_process.h"
#include "tests/host/rdma_fixture.h"
#include "tests/host/wire_support.h"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace hcasim::test {

// Two devices on one ptp link, both opened by this process.
struct Wire {
    // capture: each device writes DIR/a.pcap or DIR/b.pcap.
    explicit Wire(std::vector<std::string> extra_a = {}, std::vector<std::string> extra_b = {},
                  bool capture = true)
        : dir(wire_temp_dir("wire")) {
        auto args = [&](const char* mac, const char* ip, const char* pcap, std::vector<std::string> extra) {
            std::vector<std::string> a = {"--port", "ptp://" + dir + "/link", "--mac", mac, "--ipv4", ip};
            if (capture) {
                a.push_back("--pcap");
                a.push_back(dir + "/" + pcap);
            }
            a.insert(a.end(), extra.begin(), extra.end());
            return a;
        };
        dev_a = std::make_unique<DeviceProcess>(args("02:00:00:77:00:01", "10.77.0.1", "a.pcap", extra_a));
        dev_b = std::make_unique<DeviceProcess>(args("02:00:00:77:00:02", "10.77.0.2", "b.pcap", extra_b));
        const std::string sockets = dev_a->socket() + ":" + dev_b->socket();
        ::setenv("HCASIM_SOCKET", sockets.c_str(), 1);
        int n = 0;
        list = ibv_get_device_list(&n);
        REQUIRE(list);
        REQUIRE(n == 2);
        for (int i = 0; i < 2; ++i) {
            ctx[i] = ibv_open_device(list[i]);
            REQUIRE(ctx[i]);
            pd[i] = ibv_alloc_pd(ctx[i]);
            REQUIRE(pd[i]);
            cq[i] = ibv_create_cq(ctx[i], 256, nullptr, nullptr, 0);
            REQUIRE(cq[i]);
            REQUIRE(ibv_query_gid(ctx[i], 1, 1, &gid[i]) == 0);
        }
    }
    ~Wire() {
        for (int i = 0; i < 2; ++i) {
            if (cq[i]) CHECK(ibv_destroy_cq(cq[i]) == 0);
            if (pd[i]) CHECK(ibv_dealloc_pd(pd[i]) == 0);
            if (ctx[i]) CHECK(ibv_close_device(ctx[i]) == 0);
        }
        ibv_free_device_list(list);
        dev_a.reset();
        dev_b.reset();
        if (!std::getenv("HCASIM_KEEP_WIRE")) std::system(("rm -rf " + dir).c_str());
    }
    nlohmann::json port(int i) {
        auto j = nlohmann::json::parse((i ? dev_b : dev_a)->inspect(R"({"cmd":"port"})"), nullptr, false);
        REQUIRE_FALSE(j.is_discarded());
        return j;
    }
    std::string dir;
    std::unique_ptr<DeviceProcess> dev_a, dev_b;
    ibv_device** list = nullptr;
    ibv_context* ctx[2]{};
    ibv_pd* pd[2]{};
    ibv_cq* cq[2]{};
    ibv_gid gid[2]{};
};

// RC QPs a (on HCA 0) and b (on HCA 1), connected across the wire.
struct WireRc : Wire {
    explicit WireRc(ConnectAttr attr = {}, std::vector<std::string> extra_a = {},
                    std::vector<std::string> extra_b = {}, QpCaps caps = {}, bool capture = true)
        : Wire(std::move(extra_a), std::move(extra_b), capture) {
        a = create_qp(pd[0], cq[0], cq[0], IBV_QPT_RC, caps);
        b = create_qp(pd[1], cq[1], cq[1], IBV_QPT_RC, caps);
        REQUIRE(a);
        REQUIRE(b);
        ConnectAttr ca = attr, cb = attr;
        ca.dgid = &gid[1];
        cb.dgid = &gid[0];
        REQUIRE(connect_qp(a, b->qp_num, ca) == 0);
        REQUIRE(connect_qp(b, a->qp_num, cb) == 0);
    }
    ~WireRc() {
        if (a) CHECK(ibv_destroy_qp(a) == 0);
        if (b) CHECK(ibv_destroy_qp(b) == 0);
    }
    ibv_qp* a = nullptr;
    ibv_qp* b = nullptr;
};


}  // namespace hcasim::test
