// The ConnectX-5 model's firmware: executes the PRM commands the guest's
// mlx5_core issues, answered in the PRM's own layouts. The checks every
// command gets are here, in one place, before its handler runs:
//   unknown opcode              BAD_OP_ERR
//   inlen shorter than its input layout    BAD_INP_LEN_ERR
//   outlen shorter than its output layout  BAD_OUTP_LEN_ERR
//   HCA not yet in the state it needs      BAD_SYS_STATE_ERR
//   a --fail-cmd rule that matches         the rule's status, syndrome
//                                          HCASIM_SYND_FAULT_INJECTED
// Every command is traced (fw_cmd) by its PRM name with op_mod, status,
// syndrome and latency.
#pragma once

#include "common/trace.h"
#include "firmware/fault_injection.h"
#include "firmware/prm_state.h"

#include <cstdint>
#include <span>

namespace hcasim::firmware {

class PrmFirmware {
public:
    /// `device` holds the objects the commands make (UARs, EQs); it must
    /// outlive the firmware.
    PrmFirmware(Tracer& trace, device::PrmDevice& device);

    /// Executes one command: `in` its whole input, `out` its output (outlen
    /// bytes, zeroed). Writes status and syndrome (mbox_out) and the
    /// command's output. `slot` is the command queue slot, for the trace.
    void execute(std::uint32_t slot, std::span<const std::uint8_t> in, std::span<std::uint8_t> out);

    /// --fail-cmd rules, by PRM name (CREATE_SQ) or number.
    FaultInjector& faults() { return faults_; }
    PrmState& state() { return state_; }
    /// Device reset: the HCA disabled, pages forgotten, capabilities back to
    /// the policy, every UAR and EQ gone.
    void reset();

private:
    Tracer& trace_;
    PrmState state_;
    FaultInjector faults_;
};

}  // namespace hcasim::firmware
