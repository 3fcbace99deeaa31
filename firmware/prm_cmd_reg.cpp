// The ConnectX-5 model's ACCESS_REG (op_mod 0 write, 1 read; Linux
// port.c mlx5_core_access_reg): the register follows the command header
// in the input (write) and output (read). One handler per register, in a
// table; registers the model does not implement answer BAD_PARAM_ERR.
//   HOST_ENDIANNESS  the byte order of the driver's 8-byte atomics
//   PAOS             port 1's administrative status (ip link up/down) and
//                    its operational status (device::PrmPort); a change of
//                    the operational status posts a PORT_CHANGE EQE (ACTIVE
//                    or DOWN) to the EQs that take it, so mlx5e re-reads the
//                    vport state (Linux en_main.c: it asks before it sets
//                    admin up)
//   PMTU             the port's MTU limit (max, admin, oper)
//   PTYS             Ethernet protocols: 100GBASE-CR4 offered, in use
//                    when the port is up (ethtool's speed)
//   PPCNT            port counters: zeros until the port counts
//   PFCC             flow control: global pause and PFC, off; a write may
//                    keep them off (ethtool -A) and is refused otherwise
// Only local_port 1 exists.
#include "firmware/prm_handlers.h"

#include <algorithm>
#include <array>

namespace hcasim::firmware {

namespace {

constexpr std::uint64_t kWrite = 0, kRead = 1;
constexpr std::size_t kRegOff = ifc::access_register_in::register_data.bit_off / 8;
static_assert(kRegOff == ifc::access_register_out::register_data.bit_off / 8);
// PTYS: proto_mask Ethernet (MLX5_PTYS_EN), and the one protocol the port
// has, 100GBASE-CR4 (Linux port.c MLX5E_100GBASE_CR4, bit 20).
constexpr std::uint32_t kPtysEthernet = 1u << 2;
constexpr std::uint32_t k100GbaseCr4 = 1u << 20;
// PORT_CHANGE sub types (device.h MLX5_PORT_CHANGE_SUBTYPE_DOWN, _ACTIVE).
constexpr std::uint8_t kPortDown = 1, kPortActive = 4;

// The PORT_CHANGE EQE for port 1 (data.port.port = port << 4, Linux
// port_change in events.c).
void post_port_change(PrmState& s)
{
    std::array<std::uint8_t, device::PrmEqTable::kEventDataBytes> data{};
    prm::mut_view<prm::dev::ev_data>(data).value()[prm::dev::ev_data::port].set(prm::dev::eqe_port_state::port, 1 << 4);
    bool up = s.device->port().oper_status() == device::PrmPort::kUp;
    s.device->eqs().post_event(prm::event::PORT_CHANGE, up ? kPortActive : kPortDown, data);
}

// Runs fn(in, out) on the register as layout L: `in` the input's copy (a
// write's values, a read's request fields), `out` the output's (empty for a
// write whose output has no room for it).
template <class L, class Fn>
PrmStatus with_reg(CmdContext& ctx, bool write, Fn&& fn)
{
    auto in = prm::view<L>(ctx.in.size() > kRegOff ? ctx.in.subspan(kRegOff) : std::span<const std::uint8_t>{});
    auto out = prm::mut_view<L>(ctx.out.size() > kRegOff ? ctx.out.subspan(kRegOff) : std::span<std::uint8_t>{});
    if (!in)
        return prm_fail(prm::stat::BAD_INP_LEN_ERR, kPrmSyndShortInput);
    if (!write && !out)
        return prm_fail(prm::stat::BAD_OUTP_LEN_ERR, kPrmSyndShortOutput);
    return fn(*in, out);
}

PrmStatus host_endianness(PrmState& s, CmdContext& ctx, bool write)
{
    using Reg = ifc::register_host_endianness;
    return with_reg<Reg>(ctx, write, [&](prm::View<Reg> in, auto out) -> PrmStatus {
        if (write)
            s.host_endianness = static_cast<std::uint32_t>(in[Reg::he]);
        else
            out->set(Reg::he, s.host_endianness);
        return {};
    });
}

PrmStatus paos(PrmState& s, CmdContext& ctx, bool write)
{
    using Reg = ifc::paos_reg;
    device::PrmPort& p = s.device->port();
    return with_reg<Reg>(ctx, write, [&](prm::View<Reg> in, auto out) -> PrmStatus {
        if (in[Reg::local_port] != 1)
            return prm_bad_param();
        if (write && in[Reg::ase]) {
            auto st = in[Reg::admin_status];
            if (st != device::PrmPort::kUp && st != device::PrmPort::kDown)
                return prm_bad_param();
            std::uint32_t was = p.oper_status();
            p.admin_status = static_cast<std::uint32_t>(st);
            ctx.note("admin_status={}", st == device::PrmPort::kUp ? "up" : "down");
            if (p.oper_status() != was)
                post_port_change(s);
        }
        if (out) {
            out->set(Reg::local_port, 1);
            out->set(Reg::admin_status, p.admin_status);
            out->set(Reg::oper_status, p.oper_status());
        }
        return {};
    });
}

PrmStatus pmtu(PrmState& s, CmdContext& ctx, bool write)
{
    using Reg = ifc::pmtu_reg;
    device::PrmPort& p = s.device->port();
    return with_reg<Reg>(ctx, write, [&](prm::View<Reg> in, auto out) -> PrmStatus {
        if (in[Reg::local_port] != 1)
            return prm_bad_param();
        if (write) {
            auto mtu = in[Reg::admin_mtu];
            if (mtu < device::PrmPort::kMinMtu || mtu > device::PrmPort::kMaxMtu)
                return prm_bad_param();
            p.admin_mtu = static_cast<std::uint32_t>(mtu);
            ctx.note("admin_mtu={}", mtu);
        }
        if (out) {
            out->set(Reg::local_port, 1);
            out->set(Reg::max_mtu, device::PrmPort::kMaxMtu);
            out->set(Reg::admin_mtu, p.admin_mtu);
            out->set(Reg::oper_mtu, p.admin_mtu);
        }
        return {};
    });
}

PrmStatus ptys(PrmState& s, CmdContext& ctx, bool write)
{
    using Reg = ifc::ptys_reg;
    const device::PrmPort& p = s.device->port();
    return with_reg<Reg>(ctx, write, [&](prm::View<Reg> in, auto out) -> PrmStatus {
        if (in[Reg::local_port] != 1 || in[Reg::proto_mask] != kPtysEthernet)
            return prm_bad_param();
        if (write) {  // the one protocol there is, or nothing
            if (in[Reg::eth_proto_admin] & ~std::uint64_t{k100GbaseCr4} || in[Reg::ext_eth_proto_admin])
                return prm_bad_param();
            return {};
        }
        out->set(Reg::local_port, 1);
        out->set(Reg::proto_mask, kPtysEthernet);
        out->set(Reg::eth_proto_capability, k100GbaseCr4);
        out->set(Reg::eth_proto_admin, k100GbaseCr4);
        out->set(Reg::eth_proto_oper, p.oper_status() == device::PrmPort::kUp ? k100GbaseCr4 : 0);
        return {};
    });
}

PrmStatus ppcnt(PrmState&, CmdContext& ctx, bool write)
{
    using Reg = ifc::ppcnt_reg;
    if (write)
        return prm_bad_param();
    return with_reg<Reg>(ctx, false, [&](prm::View<Reg> in, auto out) -> PrmStatus {
        if (in[Reg::local_port] != 1)
            return prm_bad_param();
        // The request's fields come back; the counters stay 0.
        auto counters = (*out)[Reg::counter_set].raw();
        std::fill(counters.begin(), counters.begin() + ifc::ppcnt_reg::kBits / 8 - Reg::counter_set.bit_off / 8, 0);
        ctx.note("grp={:#x}", in[Reg::grp]);
        return {};
    });
}

PrmStatus pfcc(PrmState&, CmdContext& ctx, bool write)
{
    using Reg = ifc::pfcc_reg;
    return with_reg<Reg>(ctx, write, [&](prm::View<Reg> in, auto out) -> PrmStatus {
        if (in[Reg::local_port] != 1)
            return prm_bad_param();
        if (write && (in[Reg::pptx] || in[Reg::pprx] || in[Reg::pfctx] || in[Reg::pfcrx]))
            return prm_bad_param(kPrmSyndUnsupported);  // the port sends and honours no pause frames
        if (out) {
            auto raw = out->raw();
            std::fill(raw.begin(), raw.begin() + Reg::kBits / 8, 0);
            out->set(Reg::local_port, 1);
        }
        return {};
    });
}

struct RegDesc {
    std::uint32_t id;
    PrmStatus (*handler)(PrmState&, CmdContext&, bool write);
};

constexpr RegDesc kRegisters[] = {
    {prm::reg::HOST_ENDIANNESS, host_endianness},
    {prm::reg::PAOS, paos},
    {prm::reg::PMTU, pmtu},
    {prm::reg::PTYS, ptys},
    {prm::reg::PPCNT, ppcnt},
    {prm::reg::PFCC, pfcc},
};

}  // namespace

PrmStatus prm_access_reg(PrmState& s, CmdContext& ctx)
{
    auto in = prm_input<ifc::access_register_in>(ctx);
    auto op_mod = in[ifc::access_register_in::op_mod];
    auto id = in[ifc::access_register_in::register_id];
    ctx.note("reg={:#x} {}", id, op_mod == kWrite ? "write" : "read");
    if (op_mod != kWrite && op_mod != kRead)
        return prm_bad_param(kPrmSyndBadOpMod);
    for (const auto& r : kRegisters)
        if (r.id == id) {
            // A read gets the register's request fields (local_port, ...)
            // from the input; start the output as a copy of them.
            if (op_mod == kRead && ctx.in.size() > kRegOff && ctx.out.size() > kRegOff) {
                auto n = std::min(ctx.in.size(), ctx.out.size()) - kRegOff;
                std::copy_n(ctx.in.begin() + kRegOff, n, ctx.out.begin() + kRegOff);
            }
            return r.handler(s, ctx, op_mod == kWrite);
        }
    return prm_bad_param(kPrmSyndUnsupportedReg);
}

}  // namespace hcasim::firmware
