// Shared fixture for host-direct verbs tests: one context on a live
// hcasim-device, plus JSON access to the device's inspection interface.
#pragma once

#include "tests/host/device_process.h"

#include <doctest/doctest.h>
#include <infiniband/verbs.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <string>

namespace hcasim::test {

struct VerbsFixture {
    explicit VerbsFixture(std::vector<std::string> device_args = {}) : dev(std::move(device_args)) {
        ::setenv("HCASIM_SOCKET", dev.socket().c_str(), 1);
        int n = 0;
        list = ibv_get_device_list(&n);
        REQUIRE(list);
        REQUIRE(n == 1);
        ctx = ibv_open_device(list[0]);
        REQUIRE(ctx);
        pd = ibv_alloc_pd(ctx);
        REQUIRE(pd);
    }
    ~VerbsFixture() {
        if (pd) CHECK(ibv_dealloc_pd(pd) == 0);
        if (ctx) CHECK(ibv_close_device(ctx) == 0);
        ibv_free_device_list(list);
    }
    nlohmann::json inspect(const nlohmann::json& req) {
        auto j = nlohmann::json::parse(dev.inspect(req.dump()), nullptr, false);
        REQUIRE_FALSE(j.is_discarded());
        return j;
    }
    // The device's view of one mkey (null if absent).
    nlohmann::json mkey(uint32_t key) {
        const nlohmann::json all = inspect({{"cmd", "mkeys"}});
        for (const auto& m : all["mkeys"])
            if (m["key"] == key) return m;
        return nullptr;
    }
    nlohmann::json mr_write(uint32_t key, uint64_t addr, const std::string& hex, bool remote = true) {
        return inspect({{"cmd", "mr_write"}, {"key", key}, {"addr", addr}, {"data", hex}, {"remote", remote}});
    }

    DeviceProcess dev;
    ibv_device** list = nullptr;
    ibv_context* ctx = nullptr;
    ibv_pd* pd = nullptr;
};

}  // namespace hcasim::test
