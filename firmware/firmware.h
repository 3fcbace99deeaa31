// Firmware: executes command mailboxes against the HCA's object tables.
// Checks the header and sizes, applies fault injection, dispatches through
// the command table, fills the output header (status + syndrome) and
// traces every command with its latency.
//
// Source: mlx5 PRM command interface (opcode/op_mod in, status/syndrome
// out); the layouts are abi/hcasim_abi.h.
#pragma once

#include "firmware/fault_injection.h"
#include "firmware/firmware_state.h"

#include <span>

namespace hcasim::firmware {

class Firmware {
public:
    Firmware(const HcaCaps& caps, uint8_t* memic_base, Tracer& trace)
        : state_(caps, memic_base, trace) {}

    // Runs one command.  `out` is the whole output mailbox; it is zeroed
    // and its header filled.  Returns the status written.
    CmdStatus execute(uint32_t channel, std::span<const uint8_t> in, std::span<uint8_t> out);

    // Destroys every object created through `channel` (its owner left).
    void release_channel(uint32_t channel);
    // Device reset: every object is destroyed.
    void reset();

    FaultInjector& faults() { return faults_; }
    FwState& state() { return state_; }

private:
    FwState state_;
    FaultInjector faults_;
};

}  // namespace hcasim::firmware
