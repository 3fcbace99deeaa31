// The ConnectX-5 model's firmware (see prm_firmware.h).
#include "firmware/prm_firmware.h"

#include "abi/hcasim_abi.h"
#include "common/trace_events.h"
#include "device/platform.h"
#include "firmware/prm_command_table.h"
#include "prm/prm.h"
#include "prm/prm_layouts.h"

#include <algorithm>
#include <string>

namespace hcasim::firmware {

namespace ifc = prm::ifc;

void PrmState::reset()
{
    device::PrmDevice* d = device;
    *this = PrmState{};
    device = d;
}

PrmFirmware::PrmFirmware(Tracer& trace, device::PrmDevice& device)
    : trace_(trace),
      faults_([](const std::string& s) -> std::optional<std::uint16_t> {
          if (auto op = prm::cmd_opcode(s))
              return op;
          if (auto n = parse_opcode_number(s); n && !prm::cmd_name(*n).empty())
              return n;
          return std::nullopt;
      })
{
    state_.device = &device;
}

void PrmFirmware::reset()
{
    state_.reset();
    state_.device->reset();
}

namespace {

// The command header: every *_in layout starts with opcode and op_mod, every
// *_out with status and syndrome (mlx5_core's mbox_in/mbox_out, which
// mlx5_ifc.h does not carry); the generated layouts pin where.
constexpr auto kOpcode = ifc::enable_hca_in::opcode;
constexpr auto kOpMod = ifc::enable_hca_in::op_mod;
constexpr auto kStatus = ifc::enable_hca_out::status;
constexpr auto kSyndrome = ifc::enable_hca_out::syndrome;
constexpr std::size_t kHeaderBytes = 8;
static_assert(kOpcode.bit_off == ifc::create_eq_in::opcode.bit_off && kOpcode.bits == ifc::create_eq_in::opcode.bits);
static_assert(kOpMod.bit_off == ifc::create_eq_in::op_mod.bit_off && kOpMod.bits == ifc::create_eq_in::op_mod.bits);
static_assert(kOpMod.bit_off + kOpMod.bits == kHeaderBytes * 8);
static_assert(kStatus.bit_off == ifc::query_hca_cap_out::status.bit_off &&
              kSyndrome.bit_off == ifc::query_hca_cap_out::syndrome.bit_off &&
              kSyndrome.bit_off + kSyndrome.bits == kHeaderBytes * 8);

PrmStatus status(std::uint32_t st, std::uint32_t syndrome)
{
    return {static_cast<std::uint8_t>(st), syndrome};
}

PrmStatus check_and_run(PrmState& s, FaultInjector& faults, CmdContext& ctx, std::uint16_t opcode)
{
    const PrmCommandDesc* d = find_prm_command(opcode);
    if (!d)
        return status(prm::stat::BAD_OP_ERR, kPrmSyndUnknownOpcode);
    if (ctx.in.size() < d->in_bytes)
        return status(prm::stat::BAD_INP_LEN_ERR, kPrmSyndShortInput);
    if (ctx.out.size() < d->out_bytes)
        return status(prm::stat::BAD_OUTP_LEN_ERR, kPrmSyndShortOutput);
    if (s.hca < d->needs)
        return status(prm::stat::BAD_SYS_STATE_ERR, kPrmSyndHcaState);
    if (auto st = faults.check(opcode))
        return status(*st, HCASIM_SYND_FAULT_INJECTED);
    return d->handler(s, ctx);
}

}  // namespace

void PrmFirmware::execute(std::uint32_t slot, std::span<const std::uint8_t> in, std::span<std::uint8_t> out)
{
    const std::uint64_t t0 = device::steady_now_ns();
    // The command queue hands over at least the 8-byte headers (a shorter
    // inlen or outlen is a delivery error); a direct caller may not.
    bool header = in.size() >= kHeaderBytes;
    std::uint16_t opcode = header ? static_cast<std::uint16_t>(prm::read_bits(in, kOpcode.bit_off, kOpcode.bits)) : 0;
    std::uint16_t op_mod = header ? static_cast<std::uint16_t>(prm::read_bits(in, kOpMod.bit_off, kOpMod.bits)) : 0;
    CmdContext ctx{slot, in, out, trace_.enabled(), {}};
    PrmStatus st = header ? check_and_run(state_, faults_, ctx, opcode)
                          : status(prm::stat::BAD_INP_LEN_ERR, kPrmSyndShortInput);
    if (st.status != 0)  // a failed command's output is its status and syndrome only
        std::fill(out.begin(), out.end(), 0);
    if (out.size() >= kHeaderBytes) {
        prm::write_bits(out, kStatus.bit_off, kStatus.bits, st.status);
        prm::write_bits(out, kSyndrome.bit_off, kSyndrome.bits, st.syndrome);
    }
    if (ctx.tracing) {
        std::string_view name = prm::cmd_name(opcode);
        std::string op = name.empty() ? fmt::format("{:#x}", opcode) : std::string(name);
        std::string_view sname = prm::cmd_status_name(st.status);
        std::string stat = sname.empty() ? fmt::format("{:#x}", st.status) : std::string(sname);
        trace::fw_cmd(trace_, slot, op, op_mod, ctx.detail, stat, st.syndrome,
                      double(device::steady_now_ns() - t0) / 1000.0);
    }
}

}  // namespace hcasim::firmware
