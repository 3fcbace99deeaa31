// vfio-user server: listens on a UNIX socket, serves one client at a time
// (QEMU's vfio-user-pci, or the host-direct verbs transport), and maps each
// request to the HCA's PCI function through a dispatch table.
//
// Client lifetime: when a client disconnects its DMA maps and IRQ eventfds
// are dropped, device state is kept, and the next client is accepted.
// A malformed request gets an error reply (errno); a message whose header
// cannot be trusted (framing lost) ends that client's connection.  Either
// way the server goes on serving.
//
// Source: QEMU docs/interop/vfio-user.rst; reply-size limits of QEMU 11.1.
#pragma once

#include "device/dma_space.h"
#include "common/trace.h"
#include "pcie/hca_function.h"
#include "pcie/vfio_user_codec.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <optional>
#include <string>

namespace hcasim::pcie {

class VfioUserServer : public device::DmaMessagePort {
public:
    VfioUserServer(boost::asio::io_context& io, HcaFunction& fn, Tracer& trace);
    ~VfioUserServer() override;

    // Binds and listens on `path` (an existing socket file is replaced).
    // Returns 0 or errno.
    int listen(const std::string& path);
    // Closes the listener and any client and removes the socket file.
    void stop();

    // DmaMessagePort: DMA to maps without an fd, as DMA_READ/DMA_WRITE.
    int dma_read(uint64_t addr, void* dst, size_t len) override;
    int dma_write(uint64_t addr, const void* src, size_t len) override;

    // Request timeout for payload reads and DMA replies, ms.
    static constexpr int kTimeoutMs = 5000;

private:
    using Msg = vfio_user::Message;
    using HandlerFn = void (VfioUserServer::*)(Msg&);

    void accept_next();
    void wait_client();
    void serve_one();
    void drop_client(const char* why);
    void dispatch(Msg& m);

    void reply(const Msg& req, std::span<const uint8_t> payload = {},
               std::span<const int> fds = {});
    void reply_error(const Msg& req, int err);

    void on_version(Msg& m);
    void on_dma_map(Msg& m);
    void on_dma_unmap(Msg& m);
    void on_device_get_info(Msg& m);
    void on_region_info(Msg& m);
    void on_irq_info(Msg& m);
    void on_set_irqs(Msg& m);
    void on_region_read(Msg& m);
    void on_region_write(Msg& m);
    void on_device_reset(Msg& m);
    void on_unsupported(Msg& m);

    // Sends a server->client request and waits for its reply, serving
    // client requests that arrive meanwhile.  Returns 0 or errno.
    int transact(vfio_user::Command cmd, std::span<const uint8_t> payload, Msg& reply_out);

    boost::asio::io_context& io_;
    HcaFunction& fn_;
    Tracer& trace_;
    std::string path_;
    std::optional<boost::asio::posix::stream_descriptor> listener_;
    std::optional<boost::asio::posix::stream_descriptor> client_;
    bool versioned_ = false;
    uint16_t next_msg_id_ = 0x8000;
    int nesting_ = 0;
};

}  // namespace hcasim::pcie
