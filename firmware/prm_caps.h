// The ConnectX-5 model's capabilities (QUERY_HCA_CAP / SET_HCA_CAP): a
// policy, not a wish list. Each capability type has a "max" page (what the
// device can do) and a "current" page (what is enabled; SET_HCA_CAP writes
// it). Only what the model implements is advertised, so the drivers skip
// the rest cleanly (docs/connectx5.md, "Capabilities").
//
// Pages are held in the PRM's own layout (prm::ifc::cmd_hca_cap, ...), as the
// capability union of QUERY_HCA_CAP's output carries them.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <vector>

namespace hcasim::firmware {

class PrmCaps {
public:
    /// Bytes of one capability page (the hca_cap_union of mlx5_ifc.h).
    static const std::size_t kPageBytes;

    /// The default policy: the pages of every type the model answers.
    PrmCaps();

    /// True if the model answers capability `type` (prm::cap::*).
    bool has(std::uint32_t type) const { return max_.count(type) != 0; }
    /// The max or current page of `type`; nullptr if the model has no such type.
    const std::vector<std::uint8_t>* page(std::uint32_t type, bool current) const;
    /// SET_HCA_CAP: makes `page` the current page of `type`, after checking
    /// that every bit it enables is also enabled in max, for the fields the
    /// policy lists as settable (a driver only ever turns on what max
    /// offers). Returns false for an unknown type or a field beyond max.
    bool set_current(std::uint32_t type, const std::uint8_t* page);

private:
    std::map<std::uint32_t, std::vector<std::uint8_t>> max_, cur_;
};

}  // namespace hcasim::firmware
