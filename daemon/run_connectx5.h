// hcasim-device --model connectx5: the ConnectX-5 model's process. Its HCA
// core (pcie/cx5_hca.h) behind its PCI function (pcie/cx5_function.h) on the
// vfio-user server; doorbells run on the server's event loop. Runs until
// SIGTERM/SIGINT.
#pragma once

#include "common/trace.h"

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace hcasim::daemon {

struct Cx5Options {
    std::string socket_path;
    std::vector<std::string> faults;  // --fail-cmd, PRM names
    std::chrono::milliseconds client_stall{60000};
    std::array<std::uint8_t, 6> mac{};  // port 1's permanent MAC (the vport context's)
};

// Returns the process's exit code: 0 after a signal, 1 when the socket
// cannot be listened on, 2 for a bad --fail-cmd.
int run_connectx5(const Cx5Options& opts, Tracer& trace);

}  // namespace hcasim::daemon
