// Host-direct: `--trace-format json` writes the Trace Event Format that
// Perfetto and chrome://tracing open (issue 18, section 7).  The trace of
// a real run (a device process, RC traffic through hcasim's verbs
// library) is parsed as JSON: every event carries the fields the format
// requires (name, ph, ts, pid, tid), commands span their latency, and a
// QP's WQEs, CQEs and state changes sit on that QP's own, named track.
#include "tests/host/rdma_fixture.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <map>
#include <set>
#include <string>

using namespace hcasim::test;
using nlohmann::json;

namespace {

// The Trace Event Format's array; its closing "]" is optional (a trace of
// a device still running, or one that crashed, has none).
json parse_trace(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    if (text.empty() || text.back() != ']') text += "\n]";
    json j = json::parse(text, nullptr, false);
    REQUIRE_FALSE(j.is_discarded());
    REQUIRE(j.is_array());
    return j;
}

// Every event has the format's required fields, with their types.
void check_required(const json& events) {
    for (const json& e : events) {
        INFO(e.dump());
        REQUIRE(e.is_object());
        CHECK(e.contains("name"));
        CHECK(e.value("name", json()).is_string());
        CHECK(e.value("ph", json()).is_string());
        CHECK(e.value("ts", json()).is_number());
        CHECK(e.value("pid", json()).is_number_integer());
        CHECK(e.value("tid", json()).is_number_integer());
        const std::string ph = e.value("ph", "");
        CHECK((ph == "X" || ph == "i" || ph == "M"));
        if (ph == "X") CHECK(e.value("dur", json()).is_number());
        if (ph != "M") CHECK(e.value("cat", json()).is_string());
        if (e.contains("args")) CHECK(e["args"].is_object());
    }
}

}  // namespace

TEST_CASE("--trace-format json: a stopped device's trace is a complete Trace Event Format array") {
    DeviceProcess dev({"--trace-format", "json"});
    CHECK(dev.stop() == 0);
    const std::string text = dev.trace();
    // Complete: it parses as it is, no closing bracket added.
    const json events = json::parse(text, nullptr, false);
    REQUIRE_FALSE(events.is_discarded());
    REQUIRE(events.is_array());
    check_required(events);
    std::set<std::string> names;
    for (const json& e : events) names.insert(e.value("name", ""));
    CHECK(names.count("process_name"));
    CHECK(names.count("vfu_listen"));
    CHECK(names.count("device_exit"));
    CHECK(names.count("device_loop"));
}

TEST_CASE("--trace-format json: RC traffic on a timeline, one named track per QP") {
    RcPair p(IBV_QPT_RC, {}, {}, {"--trace-format", "json", "--trace-datapath"});
    Buffer src(p.pd, 4096), dst(p.pd, 4096);
    REQUIRE(post_recv_one(p.b, {dst.sge(0, 4096)}, 77) == 0);
    REQUIRE(post_one(p.a, IBV_WR_SEND, {src.sge(0, 3000)}, 11) == 0);
    REQUIRE(poll_cq(p.cq_a, 1).size() == 1);
    REQUIRE(poll_cq(p.cq_b, 1).size() == 1);
    const uint32_t qpn = p.a->qp_num;

    const json events = parse_trace(p.dev.trace());
    check_required(events);
    int pid = -1;
    std::map<std::string, int> count;
    std::string track_name;
    bool wqe_on_track = false, cqe_on_track = false, rts_on_track = false;
    for (const json& e : events) {
        const std::string name = e.value("name", "");
        ++count[name];
        if (pid < 0) pid = e.value("pid", -1);
        CHECK(e.value("pid", -2) == pid);  // one process
        const bool on_track = e.value("tid", json()).is_number_integer() && e["tid"].get<int64_t>() == qpn;
        if (name == "thread_name" && on_track) track_name = e["args"].value("name", "");
        if (name == "wqe" && on_track) {
            wqe_on_track = true;
            CHECK(e["args"].value("opcode", "") == "SEND");
            CHECK(e["args"].value("wr_id", "") == "0xb");
            CHECK(e["args"].value("length", 0) == 3000);
        }
        if (name == "cqe" && on_track) {
            cqe_on_track = true;
            CHECK(e["args"].value("status", "") == "SUCCESS");
        }
        if (name == "qp_state" && on_track && e["args"].value("to", "") == "RTS") rts_on_track = true;
        if (name == "fw_cmd") {
            CHECK(e.value("ph", "") == "X");
            CHECK(e["args"].value("op", "").size() > 0);
            CHECK(e["args"]["status"].is_string());
        }
    }
    CHECK(count["fw_cmd"] > 10);
    char want[32];
    std::snprintf(want, sizeof(want), "QP %#x", qpn);
    CHECK(track_name == want);
    CHECK(wqe_on_track);
    CHECK(cqe_on_track);
    CHECK(rts_on_track);
}
