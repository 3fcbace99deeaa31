// vfio-user server: listens on a UNIX socket, serves one client at a time
// (QEMU's vfio-user-pci, or the host-direct verbs transport), and maps each
// request to the HCA's PCI function through a dispatch table.
//
// The server never blocks the device's event loop (the loop that also
// polls the doorbells, runs the data-path engine and serves the
// inspection socket):
//  - receive: a MessageReader per client takes whatever the socket has
//    when it is readable (non-blocking recvmsg, fds with their message's
//    bytes); a client that stops mid-message only leaves a partial message
//    buffered.  If it sends nothing more for stall_timeout it is dropped
//    (an Asio timer, never a wait).
//  - send: replies go out with non-blocking sendmsg; what the socket does
//    not take waits in the client's Outbox, flushed when the socket is
//    writable.  A client whose queue passes kMaxQueuedBytes or
//    kMaxQueuedMessages does not read its socket: it is dropped.
//  - DMA to a map without an fd (DmaMessagePort) is a DMA_READ/DMA_WRITE
//    message to the client.  The engine's DMA is synchronous, so the
//    operation that needs it waits for the reply, but by turning the
//    event loop, not by blocking it: other requests (the client may be
//    waiting on one of them before it answers), the inspection socket and
//    timers are served meanwhile.  Two things wait for the outermost DMA
//    to finish because they could pull state from under the waiting
//    engine: device work the HCA posts (doorbell and wake runs, see
//    post_device_work) and the cleanup of a client that left (its DMA
//    maps).  Such DMA is a fallback: QEMU's guest RAM must be fd-backed
//    (memory-backend-memfd,share=on, as scripts/run-vm does), which makes
//    every device DMA a memcpy; the host-direct transport offers its
//    registered user memory without an fd, so the fallback stays.
//
// Client lifetime: when a client disconnects its DMA maps and IRQ eventfds
// are dropped, device state is kept, and the next client is accepted.
// A malformed request gets an error reply (errno); a message whose header
// cannot be trusted (framing lost) ends that client's connection.  Either
// way the server goes on serving.
//
// Files: vfio_user_server.cpp (listener, client state, receive, send),
// vfio_user_handlers.cpp (dispatch table and request handlers),
// vfio_user_dma.cpp (server->client DMA messages, device work).
//
// Source: QEMU docs/interop/vfio-user.rst; reply-size limits of QEMU 11.1.
#pragma once

#include "device/dma_space.h"
#include "common/trace.h"
#include "pcie/pci_function.h"
#include "vfio_user/codec.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace hcasim::pcie {

struct VfioUserServerOptions {
    // Drop a client that stays mid-message this long without a byte.
    std::chrono::milliseconds stall_timeout{60000};
    // Give up on a DMA_READ/DMA_WRITE reply after this long (EIO).
    std::chrono::milliseconds dma_timeout{5000};
};

class VfioUserServer : public device::DmaMessagePort {
public:
    using Options = VfioUserServerOptions;

    VfioUserServer(boost::asio::io_context& io, PciFunction& fn, Tracer& trace,
                   Options opts = {});
    ~VfioUserServer() override;

    // Binds and listens on `path` (an existing socket file is replaced).
    // Returns 0 or errno.
    int listen(const std::string& path);
    // Closes the listener and any client and removes the socket file.
    void stop();

    // Runs `fn` from the event loop, in order with other device work, but
    // never while a DMA message is in flight (the HCA's post hook: a
    // doorbell run must not start inside the engine's DMA wait).
    void post_device_work(std::function<void()> fn);

    // DmaMessagePort: DMA to maps without an fd, as DMA_READ/DMA_WRITE.
    int dma_read(uint64_t addr, void* dst, size_t len) override;
    int dma_write(uint64_t addr, const void* src, size_t len) override;

    // Outgoing queue bounds of a client (a client that never reads).
    static constexpr size_t kMaxQueuedBytes = size_t{16} << 20;
    static constexpr size_t kMaxQueuedMessages = 1024;
    // Messages read per wakeup before other work gets a turn.
    static constexpr int kReadBudget = 32;
    // DMA messages in flight at once (a DMA from inside a request served
    // during another DMA's wait); deeper ones fail with EIO.
    static constexpr int kMaxDmaDepth = 4;

private:
    using Msg = vfio_user::Message;

    // A server->client request waiting for its reply.
    struct Transaction {
        uint16_t command = 0;
        bool done = false;
        Msg reply;
    };

    // One connected client.  Handlers hold it by shared_ptr: once dropped
    // (closed) it only lives until the handlers that use it return.
    struct Client : std::enable_shared_from_this<Client> {
        Client(boost::asio::io_context& io, int fd) : sock(io, fd), stall_timer(io) {}
        boost::asio::posix::stream_descriptor sock;
        boost::asio::steady_timer stall_timer;
        vfio_user::MessageReader reader;
        vfio_user::Outbox outbox{kMaxQueuedBytes, kMaxQueuedMessages};
        std::deque<Msg> incoming;                 // requests not served yet
        std::map<uint16_t, Transaction> pending;  // our DMA messages, by msg_id
        bool closed = false;
        bool hangup = false;       // no more input (EOF, bad header): no reply can come
        bool versioned = false;
        bool read_armed = false;   // an async_wait or a posted receive
        bool write_armed = false;
        bool stall_armed = false;
        uint64_t stall_mark = 0;   // reader.bytes_received() when armed
    };
    using ClientPtr = std::shared_ptr<Client>;
    using HandlerFn = void (VfioUserServer::*)(Client&, Msg&);

    // vfio_user_server.cpp
    void accept_next();
    void arm_read(const ClientPtr& c);
    void receive(const ClientPtr& c);
    void take(Client& c, Msg&& m);
    void serve_queued(const ClientPtr& c);
    void watch_stall(const ClientPtr& c);
    void send(Client& c, vfio_user::Header h, std::span<const uint8_t> payload,
              std::span<const int> fds = {});
    void arm_write(const ClientPtr& c);
    void drop_client(Client& c, const char* why);

    // vfio_user_handlers.cpp
    void dispatch(Client& c, Msg& m);
    void reply(Client& c, const Msg& req, std::span<const uint8_t> payload = {},
               std::span<const int> fds = {});
    void reply_error(Client& c, const Msg& req, int err);
    void on_version(Client& c, Msg& m);
    void on_dma_map(Client& c, Msg& m);
    void on_dma_unmap(Client& c, Msg& m);
    void on_device_get_info(Client& c, Msg& m);
    void on_region_info(Client& c, Msg& m);
    void on_irq_info(Client& c, Msg& m);
    void on_set_irqs(Client& c, Msg& m);
    void on_region_read(Client& c, Msg& m);
    void on_region_write(Client& c, Msg& m);
    void on_device_reset(Client& c, Msg& m);
    void on_unsupported(Client& c, Msg& m);

    // vfio_user_dma.cpp
    // Sends a server->client request and turns the event loop until its
    // reply (or the client leaves, or dma_timeout).  Returns 0 or errno.
    int transact(vfio_user::Command cmd, std::span<const uint8_t> payload, Msg& reply_out);
    void complete(Client& c, Msg&& reply);
    // Runs `fn` from the loop once no DMA message is in flight.
    void at_top_level(std::function<void()> fn);
    void drain_top_level();

    boost::asio::io_context& io_;
    PciFunction& fn_;
    Tracer& trace_;
    Options opts_;
    std::string path_;
    std::optional<boost::asio::posix::stream_descriptor> listener_;
    ClientPtr client_;
    bool accepting_ = false;
    uint16_t next_msg_id_ = 0x8000;  // ours: 0x8000..0xffff (clients count from 1)
    int dma_depth_ = 0;              // DMA messages in flight (nested waits)
    std::deque<std::function<void()>> top_level_;
    bool drain_posted_ = false;
};

}  // namespace hcasim::pcie
