// Unit tests of the ConnectX-5 model's Ethernet objects, steering state,
// vport and port registers (firmware/prm_cmd_{pd,mkey,cq,wq,tir,flow,vport,
// reg}.cpp over device/prm_objects.h, prm_steering.h, prm_port.h): the
// objects mlx5e makes at probe and on `ip link set up`, in its order
// (Linux en_common.c, en_main.c, en_fs.c), with the checks each create
// makes, the references that keep a used object alive, the queue state
// machine, and a device reset that leaves nothing behind.
#include <doctest/doctest.h>

#include <vector>

#include "common/trace.h"
#include "firmware/prm_firmware.h"
#include "prm_driver.h"

using namespace hcasim;
using namespace hcasim::firmware;
using namespace hcasim::test;
namespace ifc = prm::ifc;

namespace {

constexpr std::uint64_t kBuf = GuestRam::kRam + 0x10000;  // queue buffers, 4 KiB apart
constexpr std::uint64_t kDbr = GuestRam::kRam + 0x8000;   // doorbell records

struct Rig {
    device::DmaSpace dma;
    GuestRam mem{dma};
    Tracer trace;
    TestPlatform platform{dma};
    device::PrmDevice dev{platform};
    PrmFirmware fw{trace, dev};
    std::uint32_t uar = 0, eqn = 0;

    Rig()
    {
        REQUIRE(ok(run(prm_command<ifc::enable_hca_in, ifc::enable_hca_out>(prm::op::ENABLE_HCA))));
        REQUIRE(ok(run(prm_command<ifc::init_hca_in, ifc::init_hca_out>(prm::op::INIT_HCA))));
        uar = *dev.alloc_uar();
        device::PrmEq eq;
        eq.uar_page = uar;
        eqn = *dev.eqs().create(std::move(eq));
    }

    std::vector<std::uint8_t> run(const PrmCmd& c)
    {
        std::vector<std::uint8_t> out(c.outlen);
        fw.execute(0, c.in, out);
        return out;
    }
    static bool ok(const std::vector<std::uint8_t>& out) { return prm_status(out) == 0; }

    template <class In, class Out>
    static PrmCmd cmd(std::uint32_t opcode, std::size_t extra = 0)
    {
        return prm_command<In, Out>(opcode, 0, extra);
    }
    template <class Out>
    static std::uint64_t get(const std::vector<std::uint8_t>& out, prm::Field<Out> f)
    {
        return prm::view<Out>(out).value()[f];
    }

    std::uint32_t alloc_pd()
    {
        auto out = run(cmd<ifc::alloc_pd_in, ifc::alloc_pd_out>(prm::op::ALLOC_PD));
        REQUIRE(ok(out));
        return static_cast<std::uint32_t>(get(out, ifc::alloc_pd_out::pd));
    }
    std::uint32_t alloc_td()
    {
        using Out = ifc::alloc_transport_domain_out;
        auto out = run(cmd<ifc::alloc_transport_domain_in, Out>(prm::op::ALLOC_TRANSPORT_DOMAIN));
        REQUIRE(ok(out));
        return static_cast<std::uint32_t>(get(out, Out::transport_domain));
    }
    // CREATE_CQ as mlx5e lays it: 64-byte CQEs, one page.
    PrmCmd cq_cmd(std::uint32_t log_size, std::uint32_t eq, std::uint64_t dbr = kDbr)
    {
        using In = ifc::create_cq_in;
        auto c = cmd<In, ifc::create_cq_out>(prm::op::CREATE_CQ, 8);
        auto cqc = prm::mut_view<In>(c.in).value()[In::cq_context];
        cqc.set(ifc::cqc::log_cq_size, log_size);
        cqc.set(ifc::cqc::uar_page, uar);
        cqc.set(ifc::cqc::c_eqn_or_apu_element, eq);
        cqc.set(ifc::cqc::dbr_addr, dbr);
        prm::mut_view<In>(c.in).value().set(In::pas, 0, kBuf);
        return c;
    }
    std::uint32_t create_cq()
    {
        auto out = run(cq_cmd(6, eqn));
        REQUIRE(ok(out));
        return static_cast<std::uint32_t>(get(out, ifc::create_cq_out::cqn));
    }
    std::uint32_t create_tis(std::uint32_t td)
    {
        using In = ifc::create_tis_in;
        auto c = cmd<In, ifc::create_tis_out>(prm::op::CREATE_TIS);
        prm::mut_view<In>(c.in).value()[In::ctx].set(ifc::tisc::transport_domain, td);
        auto out = run(c);
        REQUIRE(ok(out));
        return static_cast<std::uint32_t>(get(out, ifc::create_tis_out::tisn));
    }
    static void set_wq(prm::MutView<ifc::wq> wq, std::uint32_t log_sz, std::uint32_t log_stride)
    {
        wq.set(ifc::wq::wq_type, prm::wq_type::CYCLIC);
        wq.set(ifc::wq::log_wq_sz, log_sz);
        wq.set(ifc::wq::log_wq_stride, log_stride);
        wq.set(ifc::wq::dbr_addr, kDbr + 0x40);
        auto pas = *wq.at(ifc::wq::pas, 0);
        pas.set(ifc::cmd_pas::pa_h, (kBuf + 0x1000) >> 32);
        pas.set(ifc::cmd_pas::pa_l, ((kBuf + 0x1000) & 0xffffffff) >> 12);
    }
    PrmCmd rq_cmd(std::uint32_t cqn)
    {
        using In = ifc::create_rq_in;
        auto c = cmd<In, ifc::create_rq_out>(prm::op::CREATE_RQ, 8);
        auto rqc = prm::mut_view<In>(c.in).value()[In::ctx];
        rqc.set(ifc::rqc::cqn, cqn);
        set_wq(rqc[ifc::rqc::wq], 6, 4);
        return c;
    }
    std::uint32_t create_rq(std::uint32_t cqn)
    {
        auto out = run(rq_cmd(cqn));
        REQUIRE(ok(out));
        return static_cast<std::uint32_t>(get(out, ifc::create_rq_out::rqn));
    }
    PrmCmd sq_cmd(std::uint32_t cqn, std::uint32_t tisn)
    {
        using In = ifc::create_sq_in;
        auto c = cmd<In, ifc::create_sq_out>(prm::op::CREATE_SQ, 8);
        auto sqc = prm::mut_view<In>(c.in).value()[In::ctx];
        sqc.set(ifc::sqc::cqn, cqn);
        sqc.set(ifc::sqc::tis_lst_sz, 1);
        sqc.set(ifc::sqc::tis_num_0, tisn);
        set_wq(sqc[ifc::sqc::wq], 6, 6);
        sqc[ifc::sqc::wq].set(ifc::wq::uar_page, uar);
        return c;
    }
    std::vector<std::uint8_t> modify_rq(std::uint32_t rqn, std::uint32_t from, std::uint32_t to)
    {
        using In = ifc::modify_rq_in;
        auto c = cmd<In, ifc::modify_rq_out>(prm::op::MODIFY_RQ);
        auto v = prm::mut_view<In>(c.in).value();
        v.set(In::rqn, rqn);
        v.set(In::rq_state, from);
        v[In::ctx].set(ifc::rqc::state, to);
        return run(c);
    }
    PrmCmd rqt_cmd(const std::vector<std::uint32_t>& rqns)
    {
        using In = ifc::create_rqt_in;
        auto c = cmd<In, ifc::create_rqt_out>(prm::op::CREATE_RQT, rqns.size() * 4);
        auto rqtc = prm::mut_view<In>(c.in).value()[In::rqt_context];
        rqtc.set(ifc::rqtc::rqt_max_size, 8);
        rqtc.set(ifc::rqtc::rqt_actual_size, rqns.size());
        for (std::uint32_t i = 0; i < rqns.size(); ++i)
            (*rqtc.at(ifc::rqtc::rq_num, i)).set(ifc::rq_num::rq_num_, rqns[i]);
        return c;
    }
    template <class In, class Out, class F>
    std::vector<std::uint8_t> destroy(std::uint32_t opcode, F field, std::uint32_t handle)
    {
        auto c = cmd<In, Out>(opcode);
        prm::mut_view<In>(c.in).value().set(field, handle);
        return run(c);
    }
};

}  // namespace

TEST_CASE("prm objects: mlx5e's probe objects, references that keep used objects, and a reset that frees all")
{
    Rig rig;
    std::uint32_t pd = rig.alloc_pd(), td = rig.alloc_td();

    // A PA mkey on the PD (mlx5e_create_mkey); other access modes are refused.
    using MkIn = ifc::create_mkey_in;
    auto mk = Rig::cmd<MkIn, ifc::create_mkey_out>(prm::op::CREATE_MKEY);
    auto mkc = prm::mut_view<MkIn>(mk.in).value()[MkIn::memory_key_mkey_entry];
    mkc.set(ifc::mkc::pd, pd);
    mkc.set(ifc::mkc::length64, 1);
    auto mkout = rig.run(mk);
    REQUIRE(Rig::ok(mkout));
    std::uint32_t mkey = static_cast<std::uint32_t>(Rig::get(mkout, ifc::create_mkey_out::mkey_index));
    mkc.set(ifc::mkc::access_mode_1_0, prm::mkey_access::MTT);
    CHECK(prm_syndrome(rig.run(mk)) == kPrmSyndUnsupported);
    mkc.set(ifc::mkc::access_mode_1_0, prm::mkey_access::PA);
    mkc.set(ifc::mkc::pd, pd + 1);
    CHECK(prm_syndrome(rig.run(mk)) == kPrmSyndBadHandle);

    std::uint32_t tisn = rig.create_tis(td);
    std::uint32_t cqn = rig.create_cq(), sq_cqn = rig.create_cq();
    std::uint32_t rqn = rig.create_rq(cqn);
    auto sqout = rig.run(rig.sq_cmd(sq_cqn, tisn));
    REQUIRE(Rig::ok(sqout));
    std::uint32_t sqn = static_cast<std::uint32_t>(Rig::get(sqout, ifc::create_sq_out::sqn));
    auto rqtout = rig.run(rig.rqt_cmd({rqn, rqn}));
    REQUIRE(Rig::ok(rqtout));
    std::uint32_t rqtn = static_cast<std::uint32_t>(Rig::get(rqtout, ifc::create_rqt_out::rqtn));
    using TirIn = ifc::create_tir_in;
    auto tir = Rig::cmd<TirIn, ifc::create_tir_out>(prm::op::CREATE_TIR);
    auto tirc = prm::mut_view<TirIn>(tir.in).value()[TirIn::ctx];
    tirc.set(ifc::tirc::disp_type, prm::tir_disp::INDIRECT);
    tirc.set(ifc::tirc::indirect_table, rqtn);
    tirc.set(ifc::tirc::transport_domain, td);
    auto tirout = rig.run(tir);
    REQUIRE(Rig::ok(tirout));
    std::uint32_t tirn = static_cast<std::uint32_t>(Rig::get(tirout, ifc::create_tir_out::tirn));

    // Used objects stay: BAD_RES_STATE_ERR, nothing changes.
    auto busy = [](const std::vector<std::uint8_t>& out) {
        return prm_status(out) == prm::stat::BAD_RES_STATE_ERR && prm_syndrome(out) == kPrmSyndBusy;
    };
    CHECK(busy(rig.destroy<ifc::dealloc_pd_in, ifc::dealloc_pd_out>(prm::op::DEALLOC_PD, ifc::dealloc_pd_in::pd, pd)));
    CHECK(busy(rig.destroy<ifc::destroy_cq_in, ifc::destroy_cq_out>(prm::op::DESTROY_CQ, ifc::destroy_cq_in::cqn, cqn)));
    CHECK(busy(rig.destroy<ifc::destroy_rq_in, ifc::destroy_rq_out>(prm::op::DESTROY_RQ, ifc::destroy_rq_in::rqn, rqn)));
    CHECK(busy(rig.destroy<ifc::destroy_rqt_in, ifc::destroy_rqt_out>(prm::op::DESTROY_RQT, ifc::destroy_rqt_in::rqtn, rqtn)));
    CHECK(busy(rig.destroy<ifc::destroy_tis_in, ifc::destroy_tis_out>(prm::op::DESTROY_TIS, ifc::destroy_tis_in::tisn, tisn)));
    using TdIn = ifc::dealloc_transport_domain_in;
    CHECK(busy(rig.destroy<TdIn, ifc::dealloc_transport_domain_out>(prm::op::DEALLOC_TRANSPORT_DOMAIN, TdIn::transport_domain, td)));
    using EqIn = ifc::destroy_eq_in;
    CHECK(busy(rig.destroy<EqIn, ifc::destroy_eq_out>(prm::op::DESTROY_EQ, EqIn::eq_number, rig.eqn)));
    CHECK(rig.dev.objects().live() == 10);

    // Teardown in mlx5e's order frees them all.
    CHECK(Rig::ok(rig.destroy<ifc::destroy_tir_in, ifc::destroy_tir_out>(prm::op::DESTROY_TIR, ifc::destroy_tir_in::tirn, tirn)));
    CHECK(Rig::ok(rig.destroy<ifc::destroy_rqt_in, ifc::destroy_rqt_out>(prm::op::DESTROY_RQT, ifc::destroy_rqt_in::rqtn, rqtn)));
    CHECK(Rig::ok(rig.destroy<ifc::destroy_rq_in, ifc::destroy_rq_out>(prm::op::DESTROY_RQ, ifc::destroy_rq_in::rqn, rqn)));
    CHECK(Rig::ok(rig.destroy<ifc::destroy_sq_in, ifc::destroy_sq_out>(prm::op::DESTROY_SQ, ifc::destroy_sq_in::sqn, sqn)));
    CHECK(Rig::ok(rig.destroy<ifc::destroy_cq_in, ifc::destroy_cq_out>(prm::op::DESTROY_CQ, ifc::destroy_cq_in::cqn, cqn)));
    CHECK(Rig::ok(rig.destroy<ifc::destroy_tis_in, ifc::destroy_tis_out>(prm::op::DESTROY_TIS, ifc::destroy_tis_in::tisn, tisn)));
    CHECK(Rig::ok(rig.destroy<ifc::destroy_mkey_in, ifc::destroy_mkey_out>(prm::op::DESTROY_MKEY, ifc::destroy_mkey_in::mkey_index, mkey)));
    CHECK(Rig::ok(rig.destroy<ifc::dealloc_pd_in, ifc::dealloc_pd_out>(prm::op::DEALLOC_PD, ifc::dealloc_pd_in::pd, pd)));
    CHECK(rig.dev.objects().live() == 2);  // the transport domain and the SQ's CQ
    CHECK(rig.destroy<ifc::dealloc_pd_in, ifc::dealloc_pd_out>(prm::op::DEALLOC_PD, ifc::dealloc_pd_in::pd, pd)[0] ==
          prm::stat::BAD_PARAM_ERR);  // gone

    // A device reset takes whatever is left, in any order of use.
    std::uint32_t rq2 = rig.create_rq(sq_cqn);
    REQUIRE(Rig::ok(rig.run(rig.rqt_cmd({rq2}))));
    rig.dev.reset();
    CHECK(rig.dev.objects().live() == 0);
    CHECK(rig.dev.eqs().count() == 0);
}

TEST_CASE("prm objects: creates check what they name before making anything")
{
    Rig rig;
    std::uint32_t td = rig.alloc_td(), tisn = rig.create_tis(td), cqn = rig.create_cq();
    auto synd = [&](const PrmCmd& c) { return prm_syndrome(rig.run(c)); };
    CHECK(synd(rig.cq_cmd(6, rig.eqn + 1)) == kPrmSyndBadHandle);        // no such EQ
    CHECK(synd(rig.cq_cmd(23, rig.eqn)) == kPrmSyndQueueSize);           // beyond log_max_cq_sz
    CHECK(synd(rig.cq_cmd(6, rig.eqn, kDbr + 4)) == kPrmSyndBadAddr);    // doorbell record not 8-aligned
    CHECK(synd(rig.cq_cmd(7, rig.eqn)) == kPrmSyndPageList);             // 8 KiB ring, one page given
    CHECK(synd(rig.rq_cmd(cqn + 1)) == kPrmSyndBadHandle);               // no such CQ
    auto striding = rig.rq_cmd(cqn);
    prm::mut_view<ifc::create_rq_in>(striding.in).value()[ifc::create_rq_in::ctx][ifc::rqc::wq].set(
        ifc::wq::wq_type, prm::wq_type::CYCLIC_STRIDING_RQ);
    CHECK(synd(striding) == kPrmSyndUnsupported);
    CHECK(synd(rig.sq_cmd(cqn, tisn + 1)) == kPrmSyndBadHandle);         // no such TIS
    auto bad_uar = rig.sq_cmd(cqn, tisn);
    prm::mut_view<ifc::create_sq_in>(bad_uar.in).value()[ifc::create_sq_in::ctx][ifc::sqc::wq].set(ifc::wq::uar_page, 0);
    CHECK(synd(bad_uar) == kPrmSyndBadUar);
    CHECK(synd(rig.rqt_cmd({0x12345})) == kPrmSyndBadHandle);            // no such RQ
    CHECK(rig.dev.objects().live() == 3);
}

TEST_CASE("prm objects: RQ and SQ states move only from the state the command names")
{
    Rig rig;
    std::uint32_t cqn = rig.create_cq(), rqn = rig.create_rq(cqn);
    auto state = [&] { return rig.dev.objects().rqs.find(rqn)->state; };
    CHECK(Rig::ok(rig.modify_rq(rqn, prm::rq_state::RST, prm::rq_state::RDY)));
    CHECK(state() == prm::rq_state::RDY);
    auto wrong = rig.modify_rq(rqn, prm::rq_state::RST, prm::rq_state::RDY);  // it is RDY
    CHECK(prm_status(wrong) == prm::stat::BAD_RES_STATE_ERR);
    CHECK(prm_syndrome(wrong) == kPrmSyndBadState);
    CHECK(Rig::ok(rig.modify_rq(rqn, prm::rq_state::RDY, prm::rq_state::ERR)));
    CHECK(Rig::ok(rig.modify_rq(rqn, prm::rq_state::ERR, prm::rq_state::RST)));
    CHECK(prm_status(rig.modify_rq(rqn, prm::rq_state::RST, 2)) == prm::stat::BAD_PARAM_ERR);  // no state 2
    CHECK(state() == prm::rq_state::RST);
    // QUERY_RQ gives the context back with the state it is in.
    CHECK(Rig::ok(rig.modify_rq(rqn, prm::rq_state::RST, prm::rq_state::RDY)));
    auto q = Rig::cmd<ifc::query_rq_in, ifc::query_rq_out>(prm::op::QUERY_RQ);
    prm::mut_view<ifc::query_rq_in>(q.in).value().set(ifc::query_rq_in::rqn, rqn);
    auto out = rig.run(q);
    REQUIRE(Rig::ok(out));
    auto rqc = prm::view<ifc::query_rq_out>(out).value()[ifc::query_rq_out::rq_context];
    CHECK(rqc[ifc::rqc::state] == prm::rq_state::RDY);
    CHECK(rqc[ifc::rqc::cqn] == cqn);
}

TEST_CASE("prm objects: flow tables, groups and entries as fs_core builds them")
{
    Rig rig;
    using FtIn = ifc::create_flow_table_in;
    auto table = [&](std::uint32_t level, std::uint32_t miss = 0) {
        auto c = Rig::cmd<FtIn, ifc::create_flow_table_out>(prm::op::CREATE_FLOW_TABLE);
        auto v = prm::mut_view<FtIn>(c.in).value();
        v.set(FtIn::table_type, prm::ft_type::NIC_RX);
        v[FtIn::flow_table_context].set(ifc::flow_table_context::level, level);
        v[FtIn::flow_table_context].set(ifc::flow_table_context::log_size, 4);
        if (miss) {
            v[FtIn::flow_table_context].set(ifc::flow_table_context::table_miss_action, 1);
            v[FtIn::flow_table_context].set(ifc::flow_table_context::table_miss_id, miss);
        }
        return rig.run(c);
    };
    auto anchor = table(67);  // above max_ft_level 63: accepted (Linux 7.3's anchor)
    REQUIRE(Rig::ok(anchor));
    auto anchor_id = static_cast<std::uint32_t>(Rig::get(anchor, ifc::create_flow_table_out::table_id));
    auto l2 = table(1, anchor_id);
    REQUIRE(Rig::ok(l2));
    auto l2_id = static_cast<std::uint32_t>(Rig::get(l2, ifc::create_flow_table_out::table_id));
    CHECK(prm_syndrome(table(68, anchor_id)) == kPrmSyndBadHandle);  // a miss must go deeper

    using RootIn = ifc::set_flow_table_root_in;
    auto root = Rig::cmd<RootIn, ifc::set_flow_table_root_out>(prm::op::SET_FLOW_TABLE_ROOT);
    prm::mut_view<RootIn>(root.in).value().set(RootIn::table_id, l2_id);
    CHECK(Rig::ok(rig.run(root)));
    CHECK(rig.dev.steering().root(prm::ft_type::NIC_RX) == l2_id);

    using FgIn = ifc::create_flow_group_in;
    auto group = [&](std::uint32_t start, std::uint32_t end) {
        auto c = Rig::cmd<FgIn, ifc::create_flow_group_out>(prm::op::CREATE_FLOW_GROUP);
        auto v = prm::mut_view<FgIn>(c.in).value();
        v.set(FgIn::table_id, l2_id);
        v.set(FgIn::start_flow_index, start);
        v.set(FgIn::end_flow_index, end);
        v.set(FgIn::match_criteria_enable, 1);  // outer headers
        return rig.run(c);
    };
    auto g0 = group(0, 7);
    REQUIRE(Rig::ok(g0));
    auto gid = static_cast<std::uint32_t>(Rig::get(g0, ifc::create_flow_group_out::group_id));
    CHECK(prm_syndrome(group(7, 9)) == kPrmSyndQueueSize);   // overlaps
    CHECK(prm_syndrome(group(8, 16)) == kPrmSyndQueueSize);  // beyond 2^log_size

    // An FTE forwarding to the anchor; then one to a TIR that does not exist.
    using FteIn = ifc::set_fte_in;
    auto fte = [&](std::uint32_t index, std::uint32_t dest_type, std::uint32_t dest_id, std::uint32_t op_mod = 0) {
        // One dest_format_struct (8 bytes) after the context, as fs_cmd.c lays it.
        auto c = prm_command<FteIn, ifc::set_fte_out>(prm::op::SET_FLOW_TABLE_ENTRY, op_mod, 8);
        auto v = prm::mut_view<FteIn>(c.in).value();
        v.set(FteIn::table_id, l2_id);
        v.set(FteIn::flow_index, index);
        auto fc = v[FteIn::flow_context];
        fc.set(ifc::flow_context::group_id, gid);
        fc.set(ifc::flow_context::action, prm::flow_action::FWD_DEST);
        fc.set(ifc::flow_context::destination_list_size, 1);
        auto d = prm::mut_view<ifc::dest_format_struct>(fc.raw().subspan(ifc::flow_context::destination.bit_off / 8)).value();
        d.set(ifc::dest_format_struct::destination_type, dest_type);
        d.set(ifc::dest_format_struct::destination_id, dest_id);
        return rig.run(c);
    };
    CHECK(Rig::ok(fte(3, prm::flow_dest::FLOW_TABLE, anchor_id)));
    CHECK(prm_status(fte(3, prm::flow_dest::FLOW_TABLE, anchor_id)) == prm::stat::BAD_RES_STATE_ERR);  // taken
    CHECK(Rig::ok(fte(3, prm::flow_dest::FLOW_TABLE, anchor_id, 1)));                                   // modify
    CHECK(prm_syndrome(fte(4, prm::flow_dest::TIR, 0x999)) == kPrmSyndBadHandle);
    CHECK(prm_syndrome(fte(9, prm::flow_dest::FLOW_TABLE, anchor_id)) == kPrmSyndBadHandle);  // outside the group
    CHECK(rig.dev.steering().table(l2_id)->entries.size() == 1);

    // A group with entries, a table another misses to: not yet.
    using DgIn = ifc::destroy_flow_group_in;
    auto dg = Rig::cmd<DgIn, ifc::destroy_flow_group_out>(prm::op::DESTROY_FLOW_GROUP);
    prm::mut_view<DgIn>(dg.in).value().set(DgIn::table_id, l2_id);
    prm::mut_view<DgIn>(dg.in).value().set(DgIn::group_id, gid);
    CHECK(prm_status(rig.run(dg)) == prm::stat::BAD_RES_STATE_ERR);
    using DtIn = ifc::destroy_flow_table_in;
    auto dt = [&](std::uint32_t id) {
        auto c = Rig::cmd<DtIn, ifc::destroy_flow_table_out>(prm::op::DESTROY_FLOW_TABLE);
        prm::mut_view<DtIn>(c.in).value().set(DtIn::table_id, id);
        return rig.run(c);
    };
    CHECK(prm_status(dt(anchor_id)) == prm::stat::BAD_RES_STATE_ERR);
    using DfIn = ifc::delete_fte_in;
    auto df = Rig::cmd<DfIn, ifc::delete_fte_out>(prm::op::DELETE_FLOW_TABLE_ENTRY);
    prm::mut_view<DfIn>(df.in).value().set(DfIn::table_id, l2_id);
    prm::mut_view<DfIn>(df.in).value().set(DfIn::flow_index, 3);
    CHECK(Rig::ok(rig.run(df)));
    CHECK(Rig::ok(rig.run(dg)));
    CHECK(Rig::ok(dt(l2_id)));  // the root: the type has none after
    CHECK(rig.dev.steering().root(prm::ft_type::NIC_RX) == 0);
    CHECK(Rig::ok(dt(anchor_id)));
    CHECK(rig.dev.steering().table_count() == 0);
}

TEST_CASE("prm objects: the vport context and the port registers mlx5e reads and writes")
{
    Rig rig;
    using QIn = ifc::query_nic_vport_context_in;
    using QOut = ifc::query_nic_vport_context_out;
    auto q = rig.run(Rig::cmd<QIn, QOut>(prm::op::QUERY_NIC_VPORT_CONTEXT));
    REQUIRE(Rig::ok(q));
    auto nvc = prm::view<QOut>(q).value()[QOut::nic_vport_context];
    CHECK(nvc[ifc::nic_vport_context::system_image_guid] != 0);  // devlink's switch id
    auto mac = nvc[ifc::nic_vport_context::permanent_address];
    CHECK((mac[ifc::mac_address_layout::mac_addr_47_32] >> 8) == 0x02);  // locally administered
    CHECK(nvc[ifc::nic_vport_context::mtu] == 1522);
    // hcasim-device --mac: the permanent address, and the GUID made from it.
    rig.dev.port().set_identity({0x02, 0x11, 0x22, 0x33, 0x44, 0x55});
    auto q2 = rig.run(Rig::cmd<QIn, QOut>(prm::op::QUERY_NIC_VPORT_CONTEXT));
    auto nvc2 = prm::view<QOut>(q2).value()[QOut::nic_vport_context];
    CHECK(nvc2[ifc::nic_vport_context::permanent_address][ifc::mac_address_layout::mac_addr_31_0] == 0x22334455);
    CHECK(nvc2[ifc::nic_vport_context::system_image_guid] == 0x021122fffe334455);

    // MTU 9000 (hardware MTU 9022), then a UC list of two addresses.
    using MIn = ifc::modify_nic_vport_context_in;
    auto m = Rig::cmd<MIn, ifc::modify_nic_vport_context_out>(prm::op::MODIFY_NIC_VPORT_CONTEXT, 16);
    auto mv = prm::mut_view<MIn>(m.in).value();
    mv[MIn::field_select].set(ifc::modify_nic_vport_field_select::mtu, 1);
    mv[MIn::nic_vport_context].set(ifc::nic_vport_context::mtu, 9022);
    CHECK(Rig::ok(rig.run(m)));
    CHECK(rig.dev.port().mtu == 9022);
    mv[MIn::nic_vport_context].set(ifc::nic_vport_context::mtu, 20000);  // beyond the port
    CHECK(prm_status(rig.run(m)) == prm::stat::BAD_PARAM_ERR);
    CHECK(rig.dev.port().mtu == 9022);
    mv[MIn::field_select].set(ifc::modify_nic_vport_field_select::mtu, 0);
    mv[MIn::field_select].set(ifc::modify_nic_vport_field_select::addresses_list, 1);
    mv[MIn::nic_vport_context].set(ifc::nic_vport_context::allowed_list_size, 2);
    mv[MIn::nic_vport_context].set(ifc::nic_vport_context::current_uc_mac_address, 0, 0x020000000001);
    mv[MIn::nic_vport_context].set(ifc::nic_vport_context::current_uc_mac_address, 1, 0x020000000002);
    CHECK(Rig::ok(rig.run(m)));
    REQUIRE(rig.dev.port().uc_list.size() == 2);
    CHECK(rig.dev.port().uc_list[1][5] == 2);

    // PAOS admin up brings the vport up (QUERY_VPORT_STATE) and PTYS's speed.
    using RIn = ifc::access_register_in;
    using ROut = ifc::access_register_out;
    auto reg = [&](std::uint32_t id, std::uint32_t op_mod, auto fill) {
        auto c = prm_command<RIn, ROut>(prm::op::ACCESS_REG, op_mod, 64);
        c.outlen += 64;
        prm::mut_view<RIn>(c.in).value().set(RIn::register_id, id);
        fill(c.in.data() + RIn::register_data.bit_off / 8);
        return rig.run(c);
    };
    auto state = [&] {
        auto out = rig.run(Rig::cmd<ifc::query_vport_state_in, ifc::query_vport_state_out>(prm::op::QUERY_VPORT_STATE));
        return Rig::get(out, ifc::query_vport_state_out::state);
    };
    CHECK(state() == 0);
    auto paos_up = reg(prm::reg::PAOS, 0, [](std::uint8_t* r) {
        auto v = prm::mut_view<ifc::paos_reg>(std::span<std::uint8_t>(r, 16)).value();
        v.set(ifc::paos_reg::local_port, 1);
        v.set(ifc::paos_reg::admin_status, 1);
        v.set(ifc::paos_reg::ase, 1);
    });
    CHECK(Rig::ok(paos_up));
    CHECK(state() == 1);
    auto ptys = reg(prm::reg::PTYS, 1, [](std::uint8_t* r) {
        auto v = prm::mut_view<ifc::ptys_reg>(std::span<std::uint8_t>(r, 64)).value();
        v.set(ifc::ptys_reg::local_port, 1);
        v.set(ifc::ptys_reg::proto_mask, 1u << 2);
    });
    REQUIRE(Rig::ok(ptys));
    auto pr = prm::view<ifc::ptys_reg>(std::span<const std::uint8_t>(ptys).subspan(ROut::register_data.bit_off / 8)).value();
    CHECK(pr[ifc::ptys_reg::eth_proto_oper] == (1u << 20));
    auto bad_port = reg(prm::reg::PMTU, 1, [](std::uint8_t* r) {
        prm::mut_view<ifc::pmtu_reg>(std::span<std::uint8_t>(r, 16)).value().set(ifc::pmtu_reg::local_port, 2);
    });
    CHECK(prm_status(bad_port) == prm::stat::BAD_PARAM_ERR);
    CHECK(prm_syndrome(reg(0x9999, 1, [](std::uint8_t*) {})) == kPrmSyndUnsupportedReg);
}
