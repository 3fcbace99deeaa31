// The real-time clock for platforms (see platform.h).
#include "device/platform.h"

#include <chrono>

namespace hcasim::device {

uint64_t steady_now_ns() {
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count());
}

}  // namespace hcasim::device
