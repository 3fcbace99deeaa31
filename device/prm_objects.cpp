// The ConnectX-5 model's Ethernet-side objects (see prm_objects.h).
#include "device/prm_objects.h"

namespace hcasim::device {

std::optional<std::uint32_t> PrmQCounters::alloc()
{
    for (std::uint32_t id = 1; id <= kMax; ++id)
        if (!used_.test(id)) {
            used_.set(id);
            return id;
        }
    return std::nullopt;
}

bool PrmQCounters::free(std::uint32_t id)
{
    if (!allocated(id))
        return false;
    used_.reset(id);
    return true;
}

PrmObjects::PrmObjects()
{
    // Whoever makes an object takes its references (the firmware's create
    // handlers); the table gives them back as the object leaves.
    mkeys.set_cleanup([this](std::uint32_t, PrmMkey& m) { pds.put(m.pd); });
    sqs.set_cleanup([this](std::uint32_t, PrmWq& q) {
        cqs.put(q.cqn);
        tises.put(q.tisn);
    });
    rqs.set_cleanup([this](std::uint32_t, PrmWq& q) { cqs.put(q.cqn); });
    tises.set_cleanup([this](std::uint32_t, PrmTis& t) { tds.put(t.tdn); });
    rqts.set_cleanup([this](std::uint32_t, PrmRqt& t) {
        for (std::uint32_t rqn : t.rqns)
            rqs.put(rqn);
    });
    tirs.set_cleanup([this](std::uint32_t, PrmTir& t) {
        tds.put(t.tdn);
        if (t.inline_rqn)
            rqs.put(t.inline_rqn);
        if (t.rqtn)
            rqts.put(t.rqtn);
    });
}

void PrmObjects::reset()
{
    // Users first, so every put finds its object.
    tirs.clear();
    rqts.clear();
    sqs.clear();
    rqs.clear();
    tises.clear();
    cqs.clear();
    mkeys.clear();
    tds.clear();
    pds.clear();
    q_counters.reset();
}

std::uint32_t PrmObjects::live() const
{
    return static_cast<std::uint32_t>(pds.size() + tds.size() + mkeys.size() + cqs.size() + sqs.size() +
                                      rqs.size() + tises.size() + rqts.size() + tirs.size()) +
           q_counters.count();
}

}  // namespace hcasim::device
