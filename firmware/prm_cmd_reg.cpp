// The ConnectX-5 model's ACCESS_REG (op_mod 0 write, 1 read; Linux
// port.c mlx5_core_access_reg): the register follows the command header
// in the input (write) and output (read). Registers the model does not
// implement answer BAD_PARAM_ERR.
#include "firmware/prm_handlers.h"

namespace hcasim::firmware {

namespace {

constexpr std::uint64_t kWrite = 0, kRead = 1;

// HOST_ENDIANNESS (mlx5_ifc.h register_host_endianness): the driver says
// which byte order its 8-byte atomics use.
PrmStatus host_endianness(PrmState& s, CmdContext& ctx, bool write)
{
    using Reg = ifc::register_host_endianness;
    constexpr std::size_t off = ifc::access_register_in::register_data.bit_off / 8;
    if (write) {
        auto reg = prm::view<Reg>(ctx.in.subspan(off));
        if (!reg)
            return {static_cast<std::uint8_t>(prm::stat::BAD_INP_LEN_ERR), kPrmSyndShortInput};
        s.host_endianness = static_cast<std::uint32_t>((*reg)[Reg::he]);
        return {};
    }
    auto reg = prm::mut_view<Reg>(ctx.out.subspan(off));
    if (!reg)
        return {static_cast<std::uint8_t>(prm::stat::BAD_OUTP_LEN_ERR), kPrmSyndShortOutput};
    reg->set(Reg::he, s.host_endianness);
    return {};
}

}  // namespace

PrmStatus prm_access_reg(PrmState& s, CmdContext& ctx)
{
    auto in = prm_input<ifc::access_register_in>(ctx);
    auto op_mod = in[ifc::access_register_in::op_mod];
    auto id = in[ifc::access_register_in::register_id];
    ctx.note("reg={:#x} {}", id, op_mod == kWrite ? "write" : "read");
    if (op_mod != kWrite && op_mod != kRead)
        return prm_bad_param(kPrmSyndBadOpMod);
    if (id == prm::reg::HOST_ENDIANNESS)
        return host_endianness(s, ctx, op_mod == kWrite);
    return prm_bad_param(kPrmSyndUnsupportedReg);
}

}  // namespace hcasim::firmware
