// docs/device.md's command table and the firmware's (firmware/
// command_table.cpp) list the same commands: every opcode the firmware
// dispatches has a row with its name, and every row names a command the
// firmware has.  A command added or renamed on one side only fails here.
#include "firmware/command_table.h"

#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <regex>
#include <string>

using namespace hcasim::firmware;

TEST_CASE("docs/device.md lists exactly the firmware's commands, by opcode and name") {
    std::ifstream in(std::string(HCASIM_SOURCE_ROOT) + "/docs/device.md");
    REQUIRE(in);
    // Rows of the "## Commands" table: | 0x100 | QUERY_HCA_CAP | ...
    const std::regex row(R"(^\| (0x[0-9a-fA-F]+) \| ([A-Z_0-9]+) \|)");
    std::map<uint16_t, std::string> documented;
    bool in_commands = false;
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("## ", 0) == 0) in_commands = line == "## Commands";
        std::smatch m;
        if (!in_commands || !std::regex_search(line, m, row)) continue;
        const auto opcode = static_cast<uint16_t>(std::stoul(m[1].str(), nullptr, 16));
        CHECK_MESSAGE(documented.count(opcode) == 0, "documented twice: ", m[1].str());
        documented[opcode] = m[2].str();
    }
    REQUIRE_FALSE(documented.empty());
    for (const CommandDesc& d : command_table()) {
        INFO("firmware command ", std::string(d.name));
        REQUIRE(documented.count(d.opcode) == 1);
        CHECK(documented[d.opcode] == std::string(d.name));
    }
    for (const auto& [opcode, name] : documented) {
        INFO("documented command ", name);
        const CommandDesc* d = find_command(opcode);
        REQUIRE(d != nullptr);
        CHECK(name == std::string(d->name));
    }
}
