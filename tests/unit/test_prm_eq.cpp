// Unit tests of the ConnectX-5 model's UARs and event queues
// (device/prm_device.h, prm_eq.h; firmware/prm_cmd_uar.cpp, prm_cmd_eq.cpp)
// through its HCA core: commands rung on the command doorbell as Linux's
// mlx5_core rings them, EQ doorbells written to UAR pages of BAR0 as
// eq.c's eq_update_ci writes them, and EQEs read back as next_eqe_sw
// reads them. Then command completion by event once the command EQ exists.
#include <doctest/doctest.h>

#include <array>
#include <vector>

#include "common/trace.h"
#include "pcie/cx5_hca.h"
#include "prm_driver.h"

using namespace hcasim;
using namespace hcasim::test;
namespace ifc = prm::ifc;

namespace {

constexpr std::uint64_t kQueue = GuestRam::kRam + 0x3000;
constexpr std::uint64_t kInBlocks = GuestRam::kRam + 0x10000;
constexpr std::uint64_t kOutBlocks = GuestRam::kRam + 0x40000;
constexpr std::uint64_t kEqBuf = GuestRam::kRam + 0x80000;  // 4 pages, 4 KiB aligned
constexpr std::uint32_t kUarPage = 4096;

struct Rig {
    Tracer trace;
    pcie::Cx5Hca hca{trace, [] { return std::uint64_t{1}; }};
    GuestRam mem{hca.dma()};
    std::vector<unsigned> irqs;

    Rig()
    {
        hca.set_post([](std::function<void()>) {});
        hca.set_irq([this](unsigned v) { irqs.push_back(v); });
        hca.write_reg(0x10, static_cast<std::uint32_t>(kQueue >> 32));
        hca.write_reg(0x14, static_cast<std::uint32_t>(kQueue));
        REQUIRE(status(run(0, prm_command<ifc::enable_hca_in, ifc::enable_hca_out>(prm::op::ENABLE_HCA))) == 0);
        REQUIRE(status(run(0, prm_command<ifc::init_hca_in, ifc::init_hca_out>(prm::op::INIT_HCA))) == 0);
    }

    std::uint64_t entry(std::uint32_t slot) { return kQueue + slot * 64; }
    void post(std::uint32_t slot, const PrmCmd& c)
    {
        post_prm(mem, entry(slot), kInBlocks + slot * 0x2000, kOutBlocks + slot * 0x2000, c);
    }
    std::vector<std::uint8_t> output(std::uint32_t slot, std::size_t outlen)
    {
        return prm_output(mem, entry(slot), kOutBlocks + slot * 0x2000, outlen);
    }
    // Posts, rings, runs; the output.
    std::vector<std::uint8_t> run(std::uint32_t slot, const PrmCmd& c)
    {
        post(slot, c);
        hca.write_reg(0x18, 1u << slot);
        hca.poll();
        REQUIRE(mem.at(entry(slot), 64)[63] == 0);
        return output(slot, c.outlen);
    }
    static std::uint8_t status(const std::vector<std::uint8_t>& out) { return prm_status(out); }

    std::uint32_t alloc_uar()
    {
        auto out = run(1, prm_command<ifc::alloc_uar_in, ifc::alloc_uar_out>(prm::op::ALLOC_UAR));
        REQUIRE(status(out) == 0);
        return static_cast<std::uint32_t>(prm::view<ifc::alloc_uar_out>(out).value()[ifc::alloc_uar_out::uar]);
    }
    // CREATE_EQ as Linux create_map_eq lays it: eqc, the event mask, pas[].
    PrmCmd create_eq_cmd(std::uint32_t log_size, std::uint32_t uar, std::uint32_t intr, std::uint64_t mask,
                         std::uint32_t npas, std::uint64_t buf = kEqBuf)
    {
        using In = ifc::create_eq_in;
        auto c = prm_command<In, ifc::create_eq_out>(prm::op::CREATE_EQ, 0, npas * 8);
        auto v = prm::mut_view<In>(c.in).value();
        auto eqc = v[In::eq_context_entry];
        eqc.set(ifc::eqc::log_eq_size, log_size);
        eqc.set(ifc::eqc::uar_page, uar);
        eqc.set(ifc::eqc::intr, intr);
        v.set(In::event_bitmask, 0, mask);
        for (std::uint32_t i = 0; i < npas; ++i)
            v.set(In::pas, i, buf + i * 4096);
        return c;
    }
    std::vector<std::uint8_t> create_eq(std::uint32_t log_size, std::uint32_t uar, std::uint32_t intr,
                                        std::uint64_t mask)
    {
        std::uint32_t npas = std::max<std::uint32_t>(1, (64u << log_size) / 4096);
        // the driver pre-fills owner = 1 (init_eq_buf)
        for (std::uint32_t i = 0; i < (1u << log_size); ++i)
            mem.at(kEqBuf + i * 64, 64)[63] = 1;
        return run(1, create_eq_cmd(log_size, uar, intr, mask, npas));
    }
    static std::uint32_t eqn_of(const std::vector<std::uint8_t>& out)
    {
        return static_cast<std::uint32_t>(prm::view<ifc::create_eq_out>(out).value()[ifc::create_eq_out::eq_number]);
    }
    // EQ doorbell: (eqn << 24) | ci at UAR + 0x40 (arm) or + 0x48.
    void eq_doorbell(std::uint32_t uar, std::uint32_t eqn, std::uint32_t ci, bool arm)
    {
        hca.write_reg(uar * kUarPage + (arm ? 0x40 : 0x48), eqn << 24 | (ci & 0xffffff));
    }
    // EQE i of the ring at kEqBuf.
    prm::View<prm::dev::eqe> eqe(std::uint32_t i) { return prm::view<prm::dev::eqe>(mem.at(kEqBuf + i * 64, 64)).value(); }
};

std::array<std::uint8_t, 28> event_data(std::uint8_t b)
{
    std::array<std::uint8_t, 28> d{};
    d[0] = b;
    return d;
}

}  // namespace

TEST_CASE("prm eq: ALLOC_UAR never hands out the init segment's pages; DEALLOC_UAR gives back")
{
    Rig rig;
    std::uint32_t a = rig.alloc_uar(), b = rig.alloc_uar();
    CHECK(a == device::PrmDevice::kFirstUar);
    CHECK(b == a + 1);
    auto dealloc = [&](std::uint32_t uar) {
        auto c = prm_command<ifc::dealloc_uar_in, ifc::dealloc_uar_out>(prm::op::DEALLOC_UAR);
        prm::mut_view<ifc::dealloc_uar_in>(c.in).value().set(ifc::dealloc_uar_in::uar, uar);
        return rig.run(1, c);
    };
    CHECK(Rig::status(dealloc(a)) == 0);
    auto again = dealloc(a);
    CHECK(Rig::status(again) == prm::stat::BAD_PARAM_ERR);
    CHECK(prm_syndrome(again) == firmware::kPrmSyndBadUar);
    CHECK(Rig::status(dealloc(0)) == prm::stat::BAD_PARAM_ERR);  // the init segment is no UAR
    CHECK(rig.alloc_uar() == a);                                  // the lowest free index again
    CHECK(rig.hca.device().uar_count() == 2);
}

TEST_CASE("prm eq: EQEs with the owner bit of their pass, MSI-X once per arming, ci from the UAR doorbell")
{
    Rig rig;
    std::uint32_t uar = rig.alloc_uar();
    auto out = rig.create_eq(2, uar, 5, 1ull << prm::event::PORT_CHANGE);  // 4 EQEs
    REQUIRE(Rig::status(out) == 0);
    std::uint32_t eqn = Rig::eqn_of(out);
    auto& eqs = rig.hca.device().eqs();
    REQUIRE(eqs.find(eqn) != nullptr);

    // Not armed yet: an EQE but no interrupt.
    CHECK(eqs.post_event(prm::event::PORT_CHANGE, 4, event_data(0xa1)) == 1);
    CHECK(rig.irqs.empty());
    CHECK(rig.eqe(0)[prm::dev::eqe::type] == prm::event::PORT_CHANGE);
    CHECK(rig.eqe(0)[prm::dev::eqe::sub_type] == 4);
    CHECK(rig.eqe(0).raw()[0x20] == 0xa1);
    CHECK(rig.eqe(0)[prm::dev::eqe::owner] == 0);  // first pass: 0 (the driver pre-filled 1)
    // Arming with an EQE beyond ci fires at once, and only once.
    rig.eq_doorbell(uar, eqn, 0, true);
    CHECK(rig.irqs == std::vector<unsigned>{5});
    CHECK(eqs.post_event(prm::event::PORT_CHANGE, 4, event_data(0xa2)) == 1);
    CHECK(rig.irqs.size() == 1);
    // Consumed both, re-armed: the next EQE interrupts.
    rig.eq_doorbell(uar, eqn, 2, true);
    CHECK(rig.irqs.size() == 1);
    CHECK(eqs.post_event(prm::event::PORT_CHANGE, 4, event_data(0xa3)) == 1);
    CHECK(rig.irqs.size() == 2);
    // An event type the EQ does not take goes nowhere.
    CHECK(eqs.post_event(prm::event::CQ_ERROR, 0, event_data(0)) == 0);
    // Fill the ring: the 4th EQE at index 3, the 5th at index 0 (second
    // pass: owner 1), the 6th at index 1.
    CHECK(eqs.post_event(prm::event::PORT_CHANGE, 4, event_data(0xa4)) == 1);
    CHECK(eqs.post_event(prm::event::PORT_CHANGE, 4, event_data(0xa5)) == 1);
    CHECK(rig.eqe(0)[prm::dev::eqe::owner] == 1);
    CHECK(rig.eqe(0).raw()[0x20] == 0xa5);
    CHECK(eqs.post_event(prm::event::PORT_CHANGE, 4, event_data(0xa6)) == 1);
    // ci is 2: EQEs 2..5 fill the 4 slots; the next is an overrun, counted.
    CHECK(eqs.post_event(prm::event::PORT_CHANGE, 4, event_data(0xa7)) == 0);
    CHECK(eqs.find(eqn)->overruns == 1);
    // Update without arming (+0x48) frees room and raises nothing.
    std::size_t n = rig.irqs.size();
    rig.eq_doorbell(uar, eqn, 6, false);
    CHECK(eqs.find(eqn)->ci == 6);
    CHECK(rig.irqs.size() == n);

    // QUERY_EQ reports the context as the device keeps it.
    auto q = prm_command<ifc::query_eq_in, ifc::query_eq_out>(prm::op::QUERY_EQ);
    prm::mut_view<ifc::query_eq_in>(q.in).value().set(ifc::query_eq_in::eq_number, eqn);
    auto qo = rig.run(1, q);
    REQUIRE(Rig::status(qo) == 0);
    auto eqc = prm::view<ifc::query_eq_out>(qo).value()[ifc::query_eq_out::eq_context_entry];
    CHECK(eqc[ifc::eqc::log_eq_size] == 2);
    CHECK(eqc[ifc::eqc::uar_page] == uar);
    CHECK(eqc[ifc::eqc::intr] == 5);
    CHECK(eqc[ifc::eqc::producer_counter] == 6);
    CHECK(eqc[ifc::eqc::consumer_counter] == 6);
    CHECK(eqc[ifc::eqc::st] == prm::eqc_st::FIRED);

    // A UAR in use by an EQ cannot go; DESTROY_EQ, then it can.
    auto dealloc = prm_command<ifc::dealloc_uar_in, ifc::dealloc_uar_out>(prm::op::DEALLOC_UAR);
    prm::mut_view<ifc::dealloc_uar_in>(dealloc.in).value().set(ifc::dealloc_uar_in::uar, uar);
    CHECK(Rig::status(rig.run(1, dealloc)) == prm::stat::BAD_RES_STATE_ERR);
    auto d = prm_command<ifc::destroy_eq_in, ifc::destroy_eq_out>(prm::op::DESTROY_EQ);
    prm::mut_view<ifc::destroy_eq_in>(d.in).value().set(ifc::destroy_eq_in::eq_number, eqn);
    CHECK(Rig::status(rig.run(1, d)) == 0);
    CHECK(eqs.find(eqn) == nullptr);
    CHECK(Rig::status(rig.run(1, d)) == prm::stat::BAD_PARAM_ERR);  // already gone
    CHECK(Rig::status(rig.run(1, dealloc)) == 0);
}

TEST_CASE("prm eq: doorbells that name no EQ of their UAR are dropped and counted")
{
    Rig rig;
    std::uint32_t uar = rig.alloc_uar(), other = rig.alloc_uar();
    std::uint32_t eqn = Rig::eqn_of(rig.create_eq(1, uar, 0, 1));
    auto& dev = rig.hca.device();
    rig.eq_doorbell(other, eqn, 1, true);  // the EQ's doorbell through another UAR
    rig.eq_doorbell(uar, 31, 1, true);     // no EQ 31
    rig.eq_doorbell(200, eqn, 1, true);    // no UAR 200
    rig.hca.write_reg(uar * kUarPage + 0x20, 0);  // no doorbell at 0x20
    CHECK(dev.dropped_doorbells() == 4);
    CHECK(dev.eqs().find(eqn)->ci == 0);
    CHECK(!dev.eqs().find(eqn)->armed);
    rig.eq_doorbell(uar, eqn, 0, true);
    CHECK(dev.eqs().find(eqn)->armed);
    CHECK(dev.dropped_doorbells() == 4);
}

TEST_CASE("prm eq: CREATE_EQ checks its context before making anything")
{
    Rig rig;
    std::uint32_t uar = rig.alloc_uar();
    struct Case {
        const char* what;
        PrmCmd cmd;
        std::uint32_t syndrome;
    };
    Case cases[] = {
        {"ring larger than log_max_eq_sz", rig.create_eq_cmd(17, uar, 0, 1, 1), firmware::kPrmSyndQueueSize},
        {"pas[] shorter than the ring", rig.create_eq_cmd(7, uar, 0, 1, 1), firmware::kPrmSyndPageList},
        {"unaligned page", rig.create_eq_cmd(1, uar, 0, 1, 1, kEqBuf + 64), firmware::kPrmSyndPageList},
        {"no such UAR", rig.create_eq_cmd(1, uar + 1, 0, 1, 1), firmware::kPrmSyndBadUar},
        {"UAR 0 is the init segment", rig.create_eq_cmd(1, 0, 0, 1, 1), firmware::kPrmSyndBadUar},
        {"MSI-X vector beyond the table", rig.create_eq_cmd(1, uar, 32, 1, 1), firmware::kPrmSyndBadVector},
    };
    for (auto& c : cases) {
        CAPTURE(c.what);
        auto out = rig.run(1, c.cmd);
        CHECK(Rig::status(out) == prm::stat::BAD_PARAM_ERR);
        CHECK(prm_syndrome(out) == c.syndrome);
    }
    CHECK(rig.hca.device().eqs().count() == 0);
    // A ring outside guest memory: made (the addresses are the driver's), but
    // its EQEs are dropped and counted, never written elsewhere.
    auto out = rig.run(1, rig.create_eq_cmd(1, uar, 0, 1ull << prm::event::PORT_CHANGE, 1, 0x7000'0000'0000));
    REQUIRE(Rig::status(out) == 0);
    auto& eqs = rig.hca.device().eqs();
    CHECK(eqs.post_event(prm::event::PORT_CHANGE, 0, event_data(1)) == 0);
    CHECK(eqs.find(Rig::eqn_of(out))->dma_faults == 1);
    // Every EQ in use: LIM_ERR.
    for (std::uint32_t i = 1; i < device::PrmEqTable::kMaxEqs; ++i)
        REQUIRE(Rig::status(rig.create_eq(0, uar, 0, 0)) == 0);
    auto full = rig.create_eq(0, uar, 0, 0);
    CHECK(Rig::status(full) == prm::stat::LIM_ERR);
    CHECK(prm_syndrome(full) == firmware::kPrmSyndNoEq);
}

TEST_CASE("prm eq: commands rung after the command EQ exists complete by EQE 0x0a with the slot's bit")
{
    Rig rig;
    std::uint32_t uar = rig.alloc_uar();
    // The command EQ (Linux create_async_eqs: mask bit 0x0a only, vector 0).
    // Its own CREATE_EQ completes by polling only.
    auto out = rig.create_eq(3, uar, 0, 1ull << prm::event::CMD);
    REQUIRE(Rig::status(out) == 0);
    std::uint32_t eqn = Rig::eqn_of(out);
    auto& eqs = rig.hca.device().eqs();
    CHECK(eqs.find(eqn)->pi == 0);
    rig.eq_doorbell(uar, eqn, 0, true);
    CHECK(rig.irqs.empty());

    // Two commands rung in one doorbell write: two EQEs, in slot order, each
    // after its entry is handed back; the armed EQ interrupts once.
    auto q = prm_command<ifc::query_issi_in, ifc::query_issi_out>(prm::op::QUERY_ISSI);
    rig.post(2, q);
    rig.post(6, q);
    rig.hca.write_reg(0x18, 1u << 2 | 1u << 6);
    rig.hca.poll();
    CHECK(eqs.find(eqn)->pi == 2);
    CHECK(rig.eqe(0)[prm::dev::eqe::type] == prm::event::CMD);
    auto vec = [&](std::uint32_t i) { return rig.eqe(i)[prm::dev::eqe::data][prm::dev::ev_data::cmd][prm::dev::eqe_cmd::vector]; };
    CHECK(vec(0) == 1u << 2);
    CHECK(vec(1) == 1u << 6);
    CHECK(rig.irqs == std::vector<unsigned>{0});

    // A bad entry is still handed back (delivery status) and still gets its EQE.
    rig.post(3, q);
    rig.mem.at(rig.entry(3), 64)[0] = 1;
    rig.hca.write_reg(0x18, 1u << 3);
    rig.hca.poll();
    CHECK(vec(2) == 1u << 3);

    // Once the command EQ is gone (Linux: back to polling, then DESTROY_EQ),
    // commands complete by the owner bit alone.
    auto d = prm_command<ifc::destroy_eq_in, ifc::destroy_eq_out>(prm::op::DESTROY_EQ);
    prm::mut_view<ifc::destroy_eq_in>(d.in).value().set(ifc::destroy_eq_in::eq_number, eqn);
    CHECK(Rig::status(rig.run(1, d)) == 0);
    CHECK(Rig::status(rig.run(2, q)) == 0);
    CHECK(eqs.count() == 0);

    // Device reset forgets EQs and UARs.
    CHECK(Rig::status(rig.create_eq(3, uar, 0, 1ull << prm::event::CMD)) == 0);
    rig.hca.reset();
    CHECK(rig.hca.device().eqs().count() == 0);
    CHECK(rig.hca.device().uar_count() == 0);
}
