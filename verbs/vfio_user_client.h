// vfio-user client for the host-direct transport: connects to
// hcasim-device's socket, negotiates VERSION, and issues synchronous
// requests (one at a time, thread-safe).
//
// Source: vfio-user spec (QEMU docs/interop/vfio-user.rst).
#pragma once

#include "pcie/vfio_user_codec.h"

#include <mutex>
#include <span>
#include <string>

namespace hcasim::verbs {

class VfioUserClient {
public:
    ~VfioUserClient();

    // Connects and negotiates the version.  Returns 0 or errno.
    int connect(const std::string& path);

    // Sends a request and waits for its reply.  Returns 0, the errno of an
    // error reply, or EIO/ETIMEDOUT when the connection fails.
    int request(vfio_user::Command cmd, std::span<const uint8_t> payload,
                vfio_user::Message& reply, std::span<const int> fds = {});

    int region_read(uint32_t region, uint64_t offset, void* dst, uint32_t count);
    int region_write(uint32_t region, uint64_t offset, const void* src, uint32_t count);

    static constexpr int kTimeoutMs = 10000;

private:
    std::mutex mu_;
    UniqueFd sock_;
    uint16_t next_id_ = 1;
};

}  // namespace hcasim::verbs
