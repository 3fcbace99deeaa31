// Firmware handlers and the command queue engine: every command with bad
// input (wrong handle, wrong size, wrong state) gets the right status and
// syndrome, nothing leaks, and bad DMA pointers end in a delivery status.
#include "device/dma_space.h"
#include "firmware/command_queue.h"
#include "firmware/command_table.h"
#include "firmware/firmware.h"

#include <doctest/doctest.h>

#include <cerrno>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

using namespace hcasim;
using namespace hcasim::firmware;

namespace {

struct Fixture {
    Tracer trace;
    std::vector<uint8_t> memic = std::vector<uint8_t>(64 * 1024);
    HcaCaps caps = [] {
        HcaCaps c;
        c.memic_size = 64 * 1024;
        c.max_pd = 4;
        return c;
    }();
    Firmware fw{caps, memic.data(), trace};

    template <class In>
    std::pair<CmdStatus, std::vector<uint8_t>> run(const In& in, size_t out_len = 256,
                                                   uint32_t ch = 0, size_t in_len = sizeof(In)) {
        std::vector<uint8_t> ib(in_len, 0), ob(out_len, 0xaa);
        std::memcpy(ib.data(), &in, std::min(in_len, sizeof(In)));
        CmdStatus st = fw.execute(ch, ib, ob);
        if (out_len >= sizeof(hcasim_cmd_out_hdr)) {
            hcasim_cmd_out_hdr oh{};
            std::memcpy(&oh, ob.data(), sizeof(oh));
            CHECK(oh.status == st.status);  // the header carries what was returned
            CHECK(oh.syndrome == st.syndrome);
        }
        return {st, ob};
    }
    uint32_t alloc_pd(uint32_t ch = 0) {
        hcasim_alloc_pd_in in{};
        in.hdr.opcode = HCASIM_CMD_ALLOC_PD;
        auto [st, out] = run(in, sizeof(hcasim_alloc_pd_out), ch);
        REQUIRE(st.status == HCASIM_STATUS_OK);
        hcasim_alloc_pd_out o;
        std::memcpy(&o, out.data(), sizeof(o));
        return o.pdn;
    }
};

hcasim_alloc_memic_in memic_in(uint64_t len, uint32_t log_align = 0) {
    hcasim_alloc_memic_in in{};
    in.hdr.opcode = HCASIM_CMD_ALLOC_MEMIC;
    in.length = len;
    in.log_alignment = log_align;
    return in;
}

}  // namespace

TEST_CASE("unknown opcode -> BAD_OP") {
    Fixture f;
    hcasim_cmd_in_hdr in{};
    in.opcode = 0x7777;
    auto [st, out] = f.run(in);
    CHECK(st.status == HCASIM_STATUS_BAD_OP);
    CHECK(st.syndrome == HCASIM_SYND_UNKNOWN_OPCODE);
}

TEST_CASE("every command: short input -> BAD_INPUT_LEN, short output -> BAD_OUTPUT_LEN") {
    for (const CommandDesc& d : command_table()) {
        const std::string name = d.name;
        CAPTURE(name);
        Fixture f;
        hcasim_cmd_in_hdr in{};
        in.opcode = d.opcode;
        if (d.in_size > sizeof(in)) {
            auto [st, out] = f.run(in, d.out_size, 0, d.in_size - 1);
            CHECK(st.status == HCASIM_STATUS_BAD_INPUT_LEN);
        }
        auto [st2, out2] = f.run(in, d.out_size - 1, 0, d.in_size);
        CHECK(st2.status == HCASIM_STATUS_BAD_OUTPUT_LEN);
        CHECK(st2.syndrome == HCASIM_SYND_OUT_TOO_SHORT);
        CHECK(f.fw.state().pds.size() == 0);  // nothing created on failure
        CHECK(f.fw.state().memic.blocks() == 0);
    }
}

TEST_CASE("QUERY_HCA_CAP reports the MEMIC geometry; bad op_mod fails") {
    Fixture f;
    hcasim_cmd_in_hdr in{};
    in.opcode = HCASIM_CMD_QUERY_HCA_CAP;
    auto [st, out] = f.run(in, sizeof(hcasim_query_hca_cap_out));
    REQUIRE(st.status == HCASIM_STATUS_OK);
    hcasim_query_hca_cap_out caps;
    std::memcpy(&caps, out.data(), sizeof(caps));
    CHECK(caps.memic_bar_size == 64 * 1024);
    CHECK(caps.log_memic_alloc_unit == 6);
    CHECK(caps.max_pd == 4);
    in.op_mod = 5;
    auto [st2, out2] = f.run(in, sizeof(hcasim_query_hca_cap_out));
    CHECK(st2.status == HCASIM_STATUS_BAD_PARAM);
    CHECK(st2.syndrome == HCASIM_SYND_BAD_OP_MOD);
}

TEST_CASE("PDs: exhaustion, wrong handle, another channel's handle, double free") {
    Fixture f;
    std::vector<uint32_t> pds;
    for (int i = 0; i < 4; ++i) pds.push_back(f.alloc_pd());
    hcasim_alloc_pd_in ain{};
    ain.hdr.opcode = HCASIM_CMD_ALLOC_PD;
    auto [st, o] = f.run(ain, sizeof(hcasim_alloc_pd_out));
    CHECK(st.status == HCASIM_STATUS_NO_RESOURCES);
    CHECK(st.syndrome == HCASIM_SYND_PD_EXHAUSTED);

    hcasim_dealloc_pd_in din{};
    din.hdr.opcode = HCASIM_CMD_DEALLOC_PD;
    din.pdn = 999;
    CHECK(f.run(din).first.syndrome == HCASIM_SYND_PD_BAD_HANDLE);
    din.pdn = pds[0];
    CHECK(f.run(din, 256, /*ch=*/3).first.status == HCASIM_STATUS_BAD_RESOURCE);
    CHECK(f.run(din).first.status == HCASIM_STATUS_OK);
    CHECK(f.run(din).first.status == HCASIM_STATUS_BAD_RESOURCE);  // double free
    CHECK(f.fw.state().pds.size() == 3);
}

TEST_CASE("MEMIC: bad length, bad alignment, exhaustion, wrong address") {
    Fixture f;
    CHECK(f.run(memic_in(0)).first.syndrome == HCASIM_SYND_MEMIC_BAD_LENGTH);
    CHECK(f.run(memic_in(100)).first.syndrome == HCASIM_SYND_MEMIC_BAD_LENGTH);
    CHECK(f.run(memic_in(64, 30)).first.syndrome == HCASIM_SYND_MEMIC_BAD_ALIGN);
    auto [st, out] = f.run(memic_in(64 * 1024));
    REQUIRE(st.status == HCASIM_STATUS_OK);
    auto [st2, out2] = f.run(memic_in(64));
    CHECK(st2.status == HCASIM_STATUS_NO_RESOURCES);
    CHECK(st2.syndrome == HCASIM_SYND_MEMIC_EXHAUSTED);

    hcasim_dealloc_memic_in din{};
    din.hdr.opcode = HCASIM_CMD_DEALLOC_MEMIC;
    din.memic_addr = 64;  // not a block start
    din.length = 64;
    CHECK(f.run(din).first.syndrome == HCASIM_SYND_MEMIC_BAD_ADDR);
    din.memic_addr = 0;
    din.length = 128;  // wrong length
    CHECK(f.run(din).first.syndrome == HCASIM_SYND_MEMIC_BAD_ADDR);
    din.length = 64 * 1024;
    CHECK(f.run(din, 256, /*ch=*/2).first.status == HCASIM_STATUS_BAD_PARAM);  // not the owner
    CHECK(f.run(din).first.status == HCASIM_STATUS_OK);
    CHECK(f.fw.state().memic.blocks() == 0);
}

TEST_CASE("a released channel's objects are reclaimed, others' are kept") {
    Fixture f;
    f.alloc_pd(1);
    f.alloc_pd(2);
    f.run(memic_in(128), 256, 1);
    f.fw.release_channel(1);
    CHECK(f.fw.state().pds.size() == 1);
    CHECK(f.fw.state().memic.blocks() == 0);
}

TEST_CASE("fault injection fails the chosen command with its status") {
    Fixture f;
    CHECK(f.fw.faults().add("ALLOC_PD:0x6:1") == "");
    CHECK(f.fw.faults().add("NOPE") != "");
    CHECK(f.fw.faults().add("0x205:0") != "");
    hcasim_alloc_pd_in in{};
    in.hdr.opcode = HCASIM_CMD_ALLOC_PD;
    auto [st, out] = f.run(in, sizeof(hcasim_alloc_pd_out));
    CHECK(st.status == HCASIM_STATUS_RESOURCE_BUSY);
    CHECK(st.syndrome == HCASIM_SYND_FAULT_INJECTED);
    CHECK(f.fw.state().pds.size() == 0);
    CHECK(f.run(in, sizeof(hcasim_alloc_pd_out)).first.status == HCASIM_STATUS_OK);  // count 1
    // SKIP: the third ALLOC_PD from here fails, the others succeed.
    CHECK(f.fw.faults().add("ALLOC_PD:0x1:1:x") != "");
    CHECK(f.fw.faults().add("ALLOC_PD:0x1:1:2:9") != "");
    CHECK(f.fw.faults().add("ALLOC_PD:0x1:1:2") == "");
    CHECK(f.run(in, sizeof(hcasim_alloc_pd_out)).first.status == HCASIM_STATUS_OK);
    CHECK(f.run(in, sizeof(hcasim_alloc_pd_out)).first.status == HCASIM_STATUS_OK);
    CHECK(f.run(in, sizeof(hcasim_alloc_pd_out)).first.status == 0x1);
    CHECK(f.run(in, sizeof(hcasim_alloc_pd_out)).first.status == HCASIM_STATUS_OK);
}

TEST_CASE("command queue: bad mailbox pointers and lengths give a delivery status") {
    Fixture f;
    device::DmaSpace dma;
    UniqueFd fd(::memfd_create("q", 0));
    REQUIRE(::ftruncate(fd.get(), 3 * 4096) == 0);
    auto* host = static_cast<uint8_t*>(
        ::mmap(nullptr, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0));
    REQUIRE(dma.map(0x100000, 3 * 4096, 3, UniqueFd(::dup(fd.get())), 0) == 0);
    auto submit = [&](uint64_t in_ptr, uint32_t in_len, uint64_t out_ptr, uint32_t out_len) {
        hcasim_cmdq_entry e{};
        e.type = HCASIM_CMD_TYPE_PCIE;
        e.in_ptr = in_ptr;
        e.in_len = in_len;
        e.out_ptr = out_ptr;
        e.out_len = out_len;
        e.own = HCASIM_CMD_OWN_HW;
        std::memcpy(host, &e, sizeof(e));
        REQUIRE(run_cmdq_entry(dma, f.fw, 0, 0x100000, 0));
        std::memcpy(&e, host, sizeof(e));
        CHECK(e.own == 0);
        return e.delivery_status;
    };
    hcasim_cmd_in_hdr q{};
    q.opcode = HCASIM_CMD_QUERY_HCA_CAP;
    std::memcpy(host + 4096, &q, sizeof(q));
    CHECK(submit(0x101000, 16, 0x102000, sizeof(hcasim_query_hca_cap_out)) == HCASIM_DELIVERY_OK);
    CHECK(submit(0xdead0000, 16, 0x102000, 256) == HCASIM_DELIVERY_BAD_IN_PTR);
    CHECK(submit(0x101000, 16, 0x102f00, 512) == HCASIM_DELIVERY_BAD_OUT_PTR);  // runs off the map
    CHECK(submit(0x101000, 8, 0x102000, 256) == HCASIM_DELIVERY_BAD_LENGTH);
    CHECK(submit(0x101000, 16, 0x102000, 1 << 20) == HCASIM_DELIVERY_BAD_LENGTH);
    // A queue outside the DMA space cannot even be read.
    CHECK_FALSE(run_cmdq_entry(dma, f.fw, 0, 0x900000, 0));
    ::munmap(host, 3 * 4096);
}
