// PCIe TLP Processing Hints as the device applies them: DMA handles (PH,
// optional CPU steering tag and memory type), the platform's CPU ->
// steering-tag map the driver asks the firmware for (what ACPI _DSM gives
// a real OS), and the tag a DMA write carries.
//
// Source: PCIe base spec §6.17 (TPH: PH 0 bidirectional, 1 requester,
// 2 target, 3 target with priority; ST modes; ST table in the TPH
// Requester capability), rdma-core ibv_alloc_dmah(3).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hcasim::device {

// What a DMA write's TLP carries.
struct TphTag {
    bool present = false;  // TH bit set
    uint8_t ph = 0;        // processing hint
    uint16_t st = 0;       // steering tag
    uint8_t mem_type = 0;  // 0 volatile, 1 persistent
    bool has_st = false;   // an ST from the ST table (else no-ST mode)
};

struct Dmah {
    uint32_t handle = 0;
    uint8_t ph = 0;
    bool has_st = false;
    uint32_t cpu_id = 0;
    uint8_t mem_type = 0;
    uint16_t st_index = 0xffff;
    uint16_t st_value = 0;
    uint32_t owner = 0;
};

// The platform's CPU -> steering tag map, per memory type.  Defaults
// (documented in docs/device.md): volatile ST = 0x10 + cpu, persistent
// ST = 0x80 + cpu; entries given on the command line override them.
class StPlatformMap {
public:
    // Parses "CPU:ST[,CPU:ST...]" for one memory type; "" on success.
    std::string parse(uint8_t mem_type, const std::string& spec);
    uint16_t lookup(uint8_t mem_type, uint32_t cpu) const;

private:
    std::array<std::map<uint32_t, uint16_t>, 2> map_;
};

// The function's TPH Requester state as the driver programmed it.
struct TphConfig {
    bool enabled = false;             // TPH Requester Enable != 0
    uint8_t st_mode = 0;              // ST Mode Select
    std::vector<uint16_t> st_table;   // the ST table entries
};

}  // namespace hcasim::device
