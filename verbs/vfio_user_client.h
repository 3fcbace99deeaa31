// vfio-user client for the host-direct transport: connects to
// hcasim-device's socket, negotiates VERSION, and issues synchronous
// requests from any thread.  A reader thread receives every message:
// replies go to the request waiting for them; the device's own DMA_READ /
// DMA_WRITE requests (for maps offered without an fd: registered user
// memory) are served through the DMA handler.
//
// Source: vfio-user spec (QEMU docs/interop/vfio-user.rst) §DMA_READ/WRITE.
#pragma once

#include "vfio_user/codec.h"

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <thread>

namespace hcasim::verbs {

class VfioUserClient {
public:
    // Serves a device DMA: write=true copies `buf` to addr, else reads
    // from addr into buf.  Returns 0 or errno (EFAULT outside our maps).
    using DmaHandler = std::function<int(uint64_t addr, void* buf, size_t len, bool write)>;

    ~VfioUserClient();

    // Connects and negotiates the version.  Returns 0 or errno.
    int connect(const std::string& path, DmaHandler dma);

    // Sends a request and waits for its reply.  Returns 0, the errno of an
    // error reply, or EIO/ETIMEDOUT when the connection fails.
    int request(vfio_user::Command cmd, std::span<const uint8_t> payload,
                vfio_user::Message& reply, std::span<const int> fds = {});

    int region_read(uint32_t region, uint64_t offset, void* dst, uint32_t count);
    int region_write(uint32_t region, uint64_t offset, const void* src, uint32_t count);

    static constexpr int kTimeoutMs = 10000;

private:
    void reader();
    void serve_dma(vfio_user::Message& m);
    int send(const vfio_user::Header& h, std::span<const uint8_t> payload,
             std::span<const int> fds = {});

    UniqueFd sock_;
    DmaHandler dma_;
    std::thread reader_;
    std::mutex send_mu_;  // one sendmsg at a time
    std::mutex mu_;       // guards the fields below
    std::condition_variable cv_;
    std::map<uint16_t, vfio_user::Message> replies_;
    bool dead_ = false;
    uint16_t next_id_ = 1;
};

}  // namespace hcasim::verbs
