// The ConnectX-5 model's flow steering state (see prm_steering.h).
#include "device/prm_steering.h"

#include <algorithm>

namespace hcasim::device {

std::optional<std::uint32_t> PrmFlowTable::group_of(std::uint32_t index) const
{
    for (const auto& [id, g] : groups)
        if (index >= g.start && index <= g.end)
            return id;
    return std::nullopt;
}

std::optional<std::uint32_t> PrmSteering::create_table(PrmFlowTable t)
{
    if (tables_.size() >= kMaxTables || t.type >= kTableTypes)
        return std::nullopt;
    while (tables_.count(next_table_) || next_table_ == 0 || next_table_ > 0xffffff)
        next_table_ = next_table_ > 0xffffff ? 1 : next_table_ + 1;
    std::uint32_t id = next_table_++;
    tables_.emplace(id, std::move(t));
    return id;
}

PrmFlowTable* PrmSteering::table(std::uint32_t id)
{
    auto it = tables_.find(id);
    return it == tables_.end() ? nullptr : &it->second;
}

const PrmFlowTable* PrmSteering::table(std::uint32_t id) const
{
    auto it = tables_.find(id);
    return it == tables_.end() ? nullptr : &it->second;
}

PrmSteering::DestroyTable PrmSteering::destroy_table(std::uint32_t id)
{
    auto it = tables_.find(id);
    if (it == tables_.end())
        return DestroyTable::not_found;
    bool target = std::any_of(tables_.begin(), tables_.end(), [id](const auto& kv) {
        return kv.first != id && kv.second.miss_action == 1 && kv.second.miss_table_id == id;
    });
    if (!it->second.groups.empty() || target)
        return DestroyTable::busy;
    // The root may go (Linux fs_core destroys its anchor, the root, last):
    // its type then has none.
    for (auto& r : roots_)
        if (r == id)
            r = 0;
    tables_.erase(it);
    return DestroyTable::done;
}

bool PrmSteering::set_root(std::uint32_t type, std::uint32_t id)
{
    if (type >= kTableTypes)
        return false;
    if (id != 0) {
        const PrmFlowTable* t = table(id);
        if (!t || t->type != type)
            return false;
    }
    roots_[type] = id;
    return true;
}

void PrmSteering::reset()
{
    tables_.clear();
    next_table_ = 1;
    next_group_ = 1;
    std::fill(std::begin(roots_), std::end(roots_), 0u);
}

}  // namespace hcasim::device
