// Loopback port backend: packets addressed to one of the port's own GIDs
// come straight back into the same engine (QPs of one HCA talking to each
// other, from any context or process).  Anything else has no route and is
// dropped (counted), as a real port without a link partner would.
#pragma once

#include "device/engine.h"

namespace hcasim::device {

class LoopbackPort final : public PortBackend {
public:
    explicit LoopbackPort(RdmaEngine& engine) : engine_(engine) {}
    void send(Packet& p) override {
        if (!engine_.is_local_gid(p.dgid)) {
            ++unroutable_;
            return;
        }
        engine_.receive(p);
    }
    bool link_up() const override { return true; }
    const char* name() const override { return "loopback"; }
    uint64_t unroutable() const { return unroutable_; }

private:
    RdmaEngine& engine_;
    uint64_t unroutable_ = 0;
};

}  // namespace hcasim::device
