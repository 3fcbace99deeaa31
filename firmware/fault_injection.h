// Fault injection: make chosen firmware commands fail on purpose, so
// driver developers can exercise their error paths.
//
// Spec (hcasim-device --fail-cmd, repeatable): OPCODE[:STATUS[:COUNT]]
//   OPCODE  command name (ALLOC_MEMIC) or number (0x205)
//   STATUS  command status to return, default 0x1 (INTERNAL_ERR)
//   COUNT   how many executions fail, default 0 = every one
// Injected failures carry syndrome HCASIM_SYND_FAULT_INJECTED.
#pragma once

#include <cstdint>
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
        bool exhausted = false;
    };

    // Parses and adds a rule; returns an error message or "" on success.
    std::string add(const std::string& spec);
    // Status to inject for this execution of `opcode`, if any.
    std::optional<uint8_t> check(uint16_t opcode);
    const std::vector<Rule>& rules() const { return rules_; }

private:
    std::vector<Rule> rules_;
};

}  // namespace hcasim::firmware
