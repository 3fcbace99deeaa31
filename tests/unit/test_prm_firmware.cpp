// Unit tests of the ConnectX-5 model's command interface and firmware
// (firmware/prm_cmdq.h, prm_firmware.h): a driver in this file lays out
// command entries and mailbox chains in guest memory as Linux's mlx5_core
// cmd.c does, and the device runs them through DMA. The HCA's bring-up in
// mlx5_core's order; the checks in one place; fault injection by PRM name;
// and bad entries and chains, each answered with a delivery status while
// the device keeps serving.
#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "abi/hcasim_abi.h"
#include "common/trace.h"
#include "firmware/prm_command_table.h"
#include "firmware/prm_firmware.h"
#include "prm_driver.h"

using namespace hcasim;
using namespace hcasim::firmware;
using namespace hcasim::test;
namespace ifc = prm::ifc;
using Entry = PrmEntry;
using Block = PrmBlock;

namespace {

constexpr std::uint64_t kEntry = GuestRam::kRam;               // the queue's slot 0
constexpr std::uint64_t kInBlocks = GuestRam::kRam + 0x10000;  // 1 KiB apart
constexpr std::uint64_t kOutBlocks = GuestRam::kRam + 0x40000;
using Cmd = PrmCmd;

// Guest memory, a firmware, and the test driver (prm_driver.h).
struct Rig {
    device::DmaSpace dma;
    GuestRam mem{dma};
    Tracer trace;
    TestPlatform platform{dma};
    device::PrmDevice dev{platform};
    PrmFirmware fw{trace, dev};

    std::span<std::uint8_t> at(std::uint64_t addr, std::size_t len) { return mem.at(addr, len); }
    void lay_chain(std::uint64_t base, const std::uint8_t* data, std::size_t len) { lay_prm_chain(mem, base, data, len); }
    void post(const Cmd& c) { post_prm(mem, kEntry, kInBlocks, kOutBlocks, c); }
    PrmEntryResult ring()
    {
        return run_prm_cmd_entry(dma, kEntry, [&](auto in, auto out) { fw.execute(0, in, out); });
    }
    std::uint8_t status_own() { return at(kEntry, 64)[63]; }

    // Posts, rings and returns the output; the entry must come back owned by
    // software with delivery status 0.
    std::vector<std::uint8_t> run(const Cmd& c)
    {
        post(c);
        auto r = ring();
        REQUIRE(r.handed_back);
        REQUIRE(r.delivery == PrmDelivery::ok);
        REQUIRE(status_own() == 0);
        return prm_output(mem, kEntry, kOutBlocks, c.outlen);
    }
};

template <class In, class Out>
Cmd command(std::uint32_t opcode, std::uint32_t op_mod = 0, std::size_t extra_in = 0)
{
    return prm_command<In, Out>(opcode, op_mod, extra_in);
}
std::uint8_t status(const std::vector<std::uint8_t>& out) { return prm_status(out); }
std::uint32_t syndrome(const std::vector<std::uint8_t>& out) { return prm_syndrome(out); }

void enable(Rig& rig)
{
    CHECK(status(rig.run(command<ifc::enable_hca_in, ifc::enable_hca_out>(prm::op::ENABLE_HCA))) == 0);
}

}  // namespace

TEST_CASE("prm firmware: mlx5_core's bring-up, in its order, through entries and mailbox chains")
{
    Rig rig;
    enable(rig);

    auto issi = rig.run(command<ifc::query_issi_in, ifc::query_issi_out>(prm::op::QUERY_ISSI));
    CHECK(status(issi) == 0);
    CHECK(prm::view<ifc::query_issi_out>(issi).value()[ifc::query_issi_out::supported_issi_dw0] == 0x3);
    auto set_issi = command<ifc::set_issi_in, ifc::set_issi_out>(prm::op::SET_ISSI);
    prm::mut_view<ifc::set_issi_in>(set_issi.in)->set(ifc::set_issi_in::current_issi, 1);
    CHECK(status(rig.run(set_issi)) == 0);
    CHECK(rig.fw.state().issi == 1);

    auto pages = command<ifc::query_pages_in, ifc::query_pages_out>(prm::op::QUERY_PAGES, 1);  // boot
    auto pages_out = rig.run(pages);
    CHECK(status(pages_out) == 0);
    CHECK(prm::view<ifc::query_pages_out>(pages_out).value()[ifc::query_pages_out::num_pages] == 0);

    // HOST_ENDIANNESS written, read back.
    auto reg_w = command<ifc::access_register_in, ifc::access_register_out>(prm::op::ACCESS_REG, 0, 16);
    prm::mut_view<ifc::access_register_in>(reg_w.in)->set(ifc::access_register_in::register_id, prm::reg::HOST_ENDIANNESS);
    prm::write_bits(reg_w.in, 16 * 8, 1, 1);  // he
    CHECK(status(rig.run(reg_w)) == 0);
    auto reg_r = command<ifc::access_register_in, ifc::access_register_out>(prm::op::ACCESS_REG, 1, 16);
    prm::mut_view<ifc::access_register_in>(reg_r.in)->set(ifc::access_register_in::register_id, prm::reg::HOST_ENDIANNESS);
    reg_r.outlen += 16;
    auto reg_out = rig.run(reg_r);
    CHECK(status(reg_out) == 0);
    CHECK(prm::read_bits(reg_out, 16 * 8, 1) == 1);

    // General capabilities: 4 KiB pages, out through nine mailbox blocks.
    auto max = rig.run(command<ifc::query_hca_cap_in, ifc::query_hca_cap_out>(prm::op::QUERY_HCA_CAP,
                                                                             prm::cap::GENERAL << 1));
    REQUIRE(status(max) == 0);
    auto gen = prm::view<ifc::query_hca_cap_out>(max).value()[ifc::query_hca_cap_out::capability][ifc::hca_cap_union::cmd_hca_cap];
    CHECK(gen[ifc::cmd_hca_cap::port_type] == 1);
    CHECK(gen[ifc::cmd_hca_cap::log_max_qp] == 16);
    CHECK(gen[ifc::cmd_hca_cap::page_request_disable] == 1);
    // SET_HCA_CAP as handle_hca_cap does: a copy of current, log_max_qp lowered.
    auto set = command<ifc::set_hca_cap_in, ifc::set_hca_cap_out>(prm::op::SET_HCA_CAP, prm::cap::GENERAL << 1);
    auto cap = prm::mut_view<ifc::set_hca_cap_in>(set.in).value()[ifc::set_hca_cap_in::capability];
    std::copy_n(gen.raw().begin(), ifc::hca_cap_union::kBits / 8, cap.raw().begin());
    cap[ifc::hca_cap_union::cmd_hca_cap].set(ifc::cmd_hca_cap::log_max_qp, 12);
    CHECK(status(rig.run(set)) == 0);
    auto cur = rig.run(command<ifc::query_hca_cap_in, ifc::query_hca_cap_out>(prm::op::QUERY_HCA_CAP,
                                                                             prm::cap::GENERAL << 1 | 1));
    CHECK(prm::view<ifc::query_hca_cap_out>(cur).value()[ifc::query_hca_cap_out::capability]
                                                [ifc::hca_cap_union::cmd_hca_cap][ifc::cmd_hca_cap::log_max_qp] == 12);
    // Beyond max: refused, current unchanged.
    cap[ifc::hca_cap_union::cmd_hca_cap].set(ifc::cmd_hca_cap::log_max_qp, 20);
    CHECK(status(rig.run(set)) == prm::stat::BAD_PARAM_ERR);
    // A type the model does not answer.
    CHECK(status(rig.run(command<ifc::query_hca_cap_in, ifc::query_hca_cap_out>(
              prm::op::QUERY_HCA_CAP, prm::cap::MACSEC << 1 | 1))) == prm::stat::BAD_PARAM_ERR);

    CHECK(status(rig.run(command<ifc::init_hca_in, ifc::init_hca_out>(prm::op::INIT_HCA))) == 0);
    auto adapter = rig.run(command<ifc::query_adapter_in, ifc::query_adapter_out>(prm::op::QUERY_ADAPTER));
    auto a = prm::view<ifc::query_adapter_out>(adapter).value()[ifc::query_adapter_out::query_adapter_struct];
    CHECK(a[ifc::query_adapter_param_block::ieee_vendor_id] == 0x02c9);
    CHECK(a.at(ifc::query_adapter_param_block::vsd_contd_psid, 0) == std::optional<std::uint64_t>('H'));

    CHECK(status(rig.run(command<ifc::teardown_hca_in, ifc::teardown_hca_out>(prm::op::TEARDOWN_HCA))) == 0);
    CHECK(status(rig.run(command<ifc::disable_hca_in, ifc::disable_hca_out>(prm::op::DISABLE_HCA))) == 0);
    CHECK(rig.fw.state().hca == PrmHcaState::disabled);
}

TEST_CASE("prm firmware: the checks every command gets, in one place")
{
    Rig rig;
    struct Case {
        const char* what;
        Cmd cmd;
        std::uint32_t status;
        std::uint32_t syndrome;
    };
    auto init_first = command<ifc::init_hca_in, ifc::init_hca_out>(prm::op::INIT_HCA);
    auto unknown = command<ifc::init_hca_in, ifc::init_hca_out>(0x7ff0);
    auto short_in = command<ifc::set_issi_in, ifc::set_issi_out>(prm::op::ENABLE_HCA);
    short_in.in.resize(8);
    auto short_out = command<ifc::query_issi_in, ifc::query_issi_out>(prm::op::ENABLE_HCA);
    short_out.outlen = 8;
    // Before ENABLE_HCA, only ENABLE_HCA.
    CHECK(status(rig.run(init_first)) == prm::stat::BAD_SYS_STATE_ERR);
    CHECK(syndrome(rig.run(init_first)) == kPrmSyndHcaState);
    const Case cases[] = {
        {"unknown opcode", unknown, prm::stat::BAD_OP_ERR, kPrmSyndUnknownOpcode},
        {"input shorter than its layout", short_in, prm::stat::BAD_INP_LEN_ERR, kPrmSyndShortInput},
        {"output shorter than its layout", short_out, prm::stat::BAD_OUTP_LEN_ERR, kPrmSyndShortOutput},
        {"INIT_HCA before ENABLE_HCA", init_first, prm::stat::BAD_SYS_STATE_ERR, kPrmSyndHcaState},
    };
    for (const auto& c : cases) {
        CAPTURE(std::string(c.what));
        auto out = rig.run(c.cmd);
        CHECK(status(out) == c.status);
        CHECK(syndrome(out) == c.syndrome);
    }
    CHECK(rig.fw.state().hca == PrmHcaState::disabled);
    enable(rig);
    // Every command the table has, with an input one byte short, is refused
    // before its handler runs.
    for (const auto& d : prm_command_table()) {
        CAPTURE(std::string(prm::cmd_name(d.opcode)));
        Cmd c{std::vector<std::uint8_t>(d.in_bytes - 1), d.out_bytes};
        prm::write_bits(c.in, 0, 16, d.opcode);
        CHECK(status(rig.run(c)) == prm::stat::BAD_INP_LEN_ERR);
    }
}

TEST_CASE("prm firmware: --fail-cmd by PRM name fails the chosen execution only")
{
    Rig rig;
    CHECK(rig.fw.faults().add("SET_ISSI:0x3:1:1").empty());  // the second SET_ISSI
    CHECK(rig.fw.faults().add("CREATE_NOTHING") == "unknown command 'CREATE_NOTHING'");
    CHECK(rig.fw.faults().add("0x904").empty());  // CREATE_SQ by number
    enable(rig);
    auto set_issi = command<ifc::set_issi_in, ifc::set_issi_out>(prm::op::SET_ISSI);
    prm::mut_view<ifc::set_issi_in>(set_issi.in)->set(ifc::set_issi_in::current_issi, 1);
    CHECK(status(rig.run(set_issi)) == 0);
    auto failed = rig.run(set_issi);
    CHECK(status(failed) == 0x3);
    CHECK(syndrome(failed) == HCASIM_SYND_FAULT_INJECTED);
    CHECK(status(rig.run(set_issi)) == 0);
}

TEST_CASE("prm firmware: pages given are device-owned and all come back on take")
{
    Rig rig;
    enable(rig);
    auto give = command<ifc::manage_pages_in, ifc::manage_pages_out>(prm::op::MANAGE_PAGES, 1, 3 * 8);
    auto g = prm::mut_view<ifc::manage_pages_in>(give.in).value();
    g.set(ifc::manage_pages_in::input_num_entries, 3);
    for (std::uint32_t i = 0; i < 3; ++i)
        g.set(ifc::manage_pages_in::pas, i, 0x200000 + i * 0x1000);
    CHECK(status(rig.run(give)) == 0);
    g.set(ifc::manage_pages_in::pas, 2, 0x200010);  // not a page: none of the three taken
    CHECK(status(rig.run(give)) == prm::stat::BAD_PARAM_ERR);
    g.set(ifc::manage_pages_in::input_num_entries, 4);  // more than the input holds
    CHECK(status(rig.run(give)) == prm::stat::BAD_PARAM_ERR);
    CHECK(rig.fw.state().pages.size() == 3);

    auto take = command<ifc::manage_pages_in, ifc::manage_pages_out>(prm::op::MANAGE_PAGES, 2);
    prm::mut_view<ifc::manage_pages_in>(take.in)->set(ifc::manage_pages_in::input_num_entries, 5);
    take.outlen += 5 * 8;
    auto out = rig.run(take);
    auto o = prm::view<ifc::manage_pages_out>(out).value();
    CHECK(o[ifc::manage_pages_out::output_num_entries] == 3);
    std::vector<std::uint64_t> back;
    for (std::uint32_t i = 0; i < 3; ++i)
        back.push_back(*o.at(ifc::manage_pages_out::pas, i));
    std::sort(back.begin(), back.end());
    CHECK(back == std::vector<std::uint64_t>{0x200000, 0x201000, 0x202000});
    CHECK(rig.fw.state().pages.empty());
}

TEST_CASE("prm command queue: bad entries and chains get a delivery status, run nothing, and the device serves on")
{
    Rig rig;
    enable(rig);
    // A command with a side effect and a mailbox chain both ways: MANAGE_PAGES
    // giving 2 pages (40 bytes in), with 40 bytes of output room.
    auto give = command<ifc::manage_pages_in, ifc::manage_pages_out>(prm::op::MANAGE_PAGES, 1, 2 * 8);
    prm::mut_view<ifc::manage_pages_in>(give.in)->set(ifc::manage_pages_in::input_num_entries, 2);
    give.outlen = 40;
    struct Case {
        const char* what;
        std::function<void()> spoil;
        PrmDelivery delivery;
    };
    auto entry = [&] { return prm::mut_view<Entry>(rig.at(kEntry, 64)).value(); };
    auto block = [&](std::uint64_t a) { return prm::mut_view<Block>(rig.at(a, 576)).value(); };
    const Case cases[] = {
        {"command type not 7", [&] { entry().set(Entry::type, 1); }, PrmDelivery::bad_command_type},
        {"inlen under 8", [&] { entry().set(Entry::inlen, 4); }, PrmDelivery::in_length_err},
        {"inlen past 1 MiB", [&] { entry().set(Entry::inlen, (1 << 20) + 1); }, PrmDelivery::in_length_err},
        {"outlen under 8", [&] { entry().set(Entry::outlen, 7); }, PrmDelivery::out_length_err},
        {"outlen lying: 3 blocks promised, 1 laid (its next is 0, outside guest memory)",
         [&] { entry().set(Entry::outlen, 16 + 2 * 512 + 1); }, PrmDelivery::fw_internal_err},
        {"in_ptr not 1 KiB aligned", [&] { entry().set(Entry::in_ptr, kInBlocks + 64); }, PrmDelivery::in_ptr_not_aligned},
        {"out_ptr not 1 KiB aligned", [&] { entry().set(Entry::out_ptr, kOutBlocks + 8); }, PrmDelivery::out_ptr_not_aligned},
        {"in_ptr outside guest memory", [&] { entry().set(Entry::in_ptr, 0x40000000); }, PrmDelivery::fw_internal_err},
        {"out block numbered wrong", [&] { block(kOutBlocks).set(Block::block_num, 7); }, PrmDelivery::bad_block_number},
        {"a chain that loops", [&] {
             entry().set(Entry::outlen, 16 + 3 * 512);
             rig.lay_chain(kOutBlocks, nullptr, 16 + 3 * 512);
             block(kOutBlocks + 1024).set(Block::next, kOutBlocks);
         }, PrmDelivery::bad_block_number},
        {"next pointer outside guest memory", [&] {
             entry().set(Entry::outlen, 16 + 2 * 512);
             rig.lay_chain(kOutBlocks, nullptr, 16 + 2 * 512);
             block(kOutBlocks).set(Block::next, 0xfff00000);
         }, PrmDelivery::fw_internal_err},
    };
    for (const auto& c : cases) {
        CAPTURE(std::string(c.what));
        rig.post(give);
        c.spoil();
        auto r = rig.ring();
        CHECK(r.handed_back);
        CHECK(r.delivery == c.delivery);
        CHECK(!r.executed);
        CHECK(rig.status_own() == static_cast<std::uint8_t>(static_cast<std::uint8_t>(c.delivery) << 1));
        CHECK(rig.fw.state().pages.empty());  // nothing ran
    }
    // An entry outside guest memory: nothing to hand back.
    auto r = run_prm_cmd_entry(rig.dma, 0x7000000, [&](auto in, auto out) { rig.fw.execute(0, in, out); });
    CHECK(!r.handed_back);
    // And the device serves on.
    CHECK(status(rig.run(give)) == 0);
    CHECK(rig.fw.state().pages.size() == 2);
}
