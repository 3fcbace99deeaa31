// The ConnectX-5 model's flow steering state: flow tables by type (NIC RX,
// NIC TX, ...), their flow groups (a flow index range and the match
// criteria its entries use) and entries (FTEs: match value, action,
// destinations, kept as the flow_context the driver gave), each table's
// miss action, and the root table per type (SET_FLOW_TABLE_ROOT).
//
// Tables are stored sparsely: mlx5e's L2 table alone spans 2^15 flow
// indexes. Levels above max_ft_level are accepted (Linux 7.3's fs_core
// places the anchor at level 67 with chaining capabilities on:
// docs/mlx5-linux-7.3.md 1.1).
//
// Source: mlx5 PRM "Flow Table" (CREATE_FLOW_TABLE, CREATE_FLOW_GROUP,
// SET_FLOW_TABLE_ENTRY, SET_FLOW_TABLE_ROOT); Linux fs_cmd.c.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

namespace hcasim::device {

struct PrmFlowGroup {
    std::uint32_t start = 0;  // first flow index
    std::uint32_t end = 0;    // last flow index
    std::uint32_t match_criteria_enable = 0;
    std::vector<std::uint8_t> match_criteria;  // ifc::fte_match_param
};

struct PrmFlowEntry {
    std::uint32_t group_id = 0;
    std::vector<std::uint8_t> flow_context;  // ifc::flow_context with its destinations
};

struct PrmFlowTable {
    std::uint32_t type = 0;     // table_type (NIC_RX 0, NIC_TX 1, ...)
    std::uint32_t level = 0;
    std::uint32_t log_size = 0;
    std::uint32_t miss_action = 0;  // table_miss_action: 0 default, 1 go to miss_table_id
    std::uint32_t miss_table_id = 0;
    std::map<std::uint32_t, PrmFlowGroup> groups;   // by group id
    std::map<std::uint32_t, PrmFlowEntry> entries;  // by flow index

    /// The group whose range holds `index`, if any.
    std::optional<std::uint32_t> group_of(std::uint32_t index) const;
};

class PrmSteering {
public:
    static constexpr std::uint32_t kMaxTables = 1u << 10;  // log_max_ft_num 10
    static constexpr std::uint32_t kTableTypes = 16;        // table_type is 8 bits; mlx5 uses < 16

    /// A new table (ids from 1); nullopt when kMaxTables exist.
    std::optional<std::uint32_t> create_table(PrmFlowTable t);
    PrmFlowTable* table(std::uint32_t id);
    const PrmFlowTable* table(std::uint32_t id) const;
    /// Destroys a table that has no groups and is no other table's miss
    /// target (busy otherwise: nothing changes). Destroying a type's root
    /// leaves the type without one.
    enum class DestroyTable { done, not_found, busy };
    DestroyTable destroy_table(std::uint32_t id);

    /// A group id for a new group (never reused).
    std::uint32_t next_group_id() { return next_group_++; }

    /// The root table of a type (0: none).
    std::uint32_t root(std::uint32_t type) const { return type < kTableTypes ? roots_[type] : 0; }
    bool set_root(std::uint32_t type, std::uint32_t id);

    std::uint32_t table_count() const { return static_cast<std::uint32_t>(tables_.size()); }
    void reset();

private:
    std::map<std::uint32_t, PrmFlowTable> tables_;
    std::uint32_t next_table_ = 1;
    std::uint32_t next_group_ = 1;
    std::uint32_t roots_[kTableTypes] = {};
};

}  // namespace hcasim::device
