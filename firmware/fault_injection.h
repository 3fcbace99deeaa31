// Fault injection: make chosen firmware commands fail on purpose, so
// driver developers can exercise their error paths.
//
// Spec (hcasim-device --fail-cmd, repeatable): OPCODE[:STATUS[:COUNT[:SKIP]]]
//   OPCODE  command name (ALLOC_MEMIC; the model's own names: the PRM's for
//           the ConnectX-5 model) or number (0x205)
//   STATUS  command status to return, default 0x1 (INTERNAL_ERR)
//   COUNT   how many executions fail, default 0 = every one
//   SKIP    how many executions succeed before the first failure, default 0
//           (CREATE_SQ:0x1:1:2 fails the third CREATE_SQ only)
// Injected failures carry syndrome HCASIM_SYND_FAULT_INJECTED.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace hcasim::firmware {

class FaultInjector {
public:
    struct Rule {
        uint16_t opcode;
        uint8_t status;
        uint32_t remaining;  // 0 = unlimited
        uint32_t skip = 0;   // executions still to let through
        bool exhausted = false;
    };
    // The model's command names and numbers: an opcode, or nullopt for a
    // name or number it does not know.
    using Resolve = std::function<std::optional<uint16_t>(const std::string&)>;

    // hcasim's own command table (firmware/command_table.h).
    FaultInjector();
    explicit FaultInjector(Resolve resolve) : resolve_(std::move(resolve)) {}

    // Parses and adds a rule; returns an error message or "" on success.
    std::string add(const std::string& spec);
    // Status to inject for this execution of `opcode`, if any.
    std::optional<uint8_t> check(uint16_t opcode);
    const std::vector<Rule>& rules() const { return rules_; }

private:
    Resolve resolve_;
    std::vector<Rule> rules_;
};

// A command number as --fail-cmd writes it ("0x205", "517"), or nullopt.
std::optional<uint16_t> parse_opcode_number(const std::string& s);

}  // namespace hcasim::firmware
