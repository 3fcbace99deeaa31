// The trace catalogue's functions (common/trace.h, common/trace_events.h):
// how each field kind prints in the text trace and in the Trace Event
// Format, the track an event lands on, and that nothing is written or
// formatted while tracing is off.
#include "common/trace.h"
#include "firmware/firmware_state.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

using namespace hcasim;

namespace {

std::string slurp(const std::string& path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

struct TempFile {
    std::string path = "/tmp/hcasim-trace-test-" + std::to_string(::getpid());
    ~TempFile() { ::unlink(path.c_str()); }
};

}  // namespace

TEST_CASE("trace text: handles in hex, counts in decimal, names quoted only with a space") {
    TempFile f;
    {
        Tracer t;
        REQUIRE(t.open(f.path));
        trace::qp_state(t, 0x1a2, "RTS", "ERR", "fault");
        trace::cq_error(t, 0x300, "ring outside guest memory");
        trace::vfu_dma_map(t, 0x1000, 0x2000, 3, "yes", 0, -22);
        trace::fw_reset(t);
    }
    const std::string s = slurp(f.path);
    CHECK(s.find(" qp_state qpn=0x1a2 from=RTS to=ERR reason=fault\n") != std::string::npos);
    CHECK(s.find(" cq_error cqn=0x300 reason=\"ring outside guest memory\"\n") != std::string::npos);
    CHECK(s.find(" vfu_dma_map addr=0x1000 size=0x2000 flags=3 fd=yes offset=0x0 errno=-22\n") !=
          std::string::npos);
    CHECK(s.find(" fw_reset\n") != std::string::npos);
}

TEST_CASE("trace json: the Trace Event Format, one named track per QP, commands span their latency") {
    TempFile f;
    {
        Tracer t;
        REQUIRE(t.open(f.path, Tracer::Format::Json));
        trace::cqe(t, 0x400, 0x1a2, 0xb, "SEND", "SUCCESS", 3000, 7, 0);
        trace::fw_cmd(t, 2, "CREATE_CQ(0x400)", 0, "log_size=6 cqn=0x400", "OK(0x0)", 0, 12.5);
        trace::cq_overflow(t, 0x400, 64, 0, 64);
    }
    const nlohmann::json j = nlohmann::json::parse(slurp(f.path), nullptr, false);
    REQUIRE(j.is_array());
    REQUIRE(j.size() == 7);  // process name, 3 track names, 3 events
    CHECK(j[0]["name"] == "process_name");
    // The CQE goes on its QP's track (the QPN beats the CQN), named first.
    CHECK(j[1]["name"] == "thread_name");
    CHECK(j[1]["tid"] == 0x1a2);
    CHECK(j[1]["args"]["name"] == "QP 0x1a2");
    CHECK(j[2]["name"] == "cqe");
    CHECK(j[2]["cat"] == "datapath");
    CHECK(j[2]["ph"] == "i");
    CHECK(j[2]["tid"] == 0x1a2);
    CHECK(j[2]["args"]["qpn"] == "0x1a2");
    CHECK(j[2]["args"]["byte_len"] == 3000);
    CHECK(j[2]["args"]["status"] == "SUCCESS");
    // A command on its channel's track, spanning its latency.
    CHECK(j[3]["args"]["name"] == "command channel 2");
    CHECK(j[4]["name"] == "fw_cmd");
    CHECK(j[4]["ph"] == "X");
    CHECK(j[4]["dur"] == 12.5);
    CHECK(j[4]["args"]["detail"] == "log_size=6 cqn=0x400");
    CHECK(j[5]["args"]["name"] == "CQ 0x400");
    CHECK(j[6]["name"] == "cq_overflow");
    CHECK(j[6]["cat"] == "error");
    for (const auto& e : j) {
        CHECK(e.contains("ts"));
        CHECK(e.contains("pid"));
    }
}

TEST_CASE("trace off: nothing written, command details not formatted") {
    Tracer off;
    CHECK_FALSE(off.enabled());
    trace::qp_state(off, 1, "RESET", "INIT", "command");  // no file, no crash
    firmware::CmdContext ctx{0, {}, {}, false, {}};
    ctx.note("pdn={:#x}", 5u);
    CHECK(ctx.detail.empty());
    ctx.tracing = true;
    ctx.note("pdn={:#x}", 5u);
    ctx.note("uar={}", 3u);
    CHECK(ctx.detail == "pdn=0x5 uar=3");
}
