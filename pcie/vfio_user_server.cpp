// vfio-user server: listener, client state, receive and send without
// blocking (see vfio_user_server.h).
#include "pcie/vfio_user_server.h"

#include <boost/asio/post.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

namespace hcasim::pcie {

using namespace vfio_user;
using boost::asio::posix::descriptor_base;

VfioUserServer::VfioUserServer(boost::asio::io_context& io, PciFunction& fn, Tracer& trace,
                               Options opts)
    : io_(io), fn_(fn), trace_(trace), opts_(opts) {
    fn_.dma().set_message_port(this);
}

VfioUserServer::~VfioUserServer() {
    fn_.dma().set_message_port(nullptr);
    stop();
}

int VfioUserServer::listen(const std::string& path) {
    sockaddr_un sa{};
    if (path.size() >= sizeof(sa.sun_path)) return ENAMETOOLONG;
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd) return errno;
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    ::unlink(path.c_str());
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) return errno;
    if (::listen(fd.get(), 4) != 0) return errno;
    path_ = path;
    listener_.emplace(io_, fd.release());
    trace::vfu_listen(trace_, path);
    accept_next();
    return 0;
}

void VfioUserServer::stop() {
    if (client_) drop_client(*client_, "server stopping");
    if (listener_) {
        listener_->close();
        listener_.reset();
    }
    if (!path_.empty()) {
        ::unlink(path_.c_str());
        path_.clear();
    }
}

// One client at a time: the listener is only watched while there is none
// (a second client waits in the backlog until the first has left).
void VfioUserServer::accept_next() {
    if (!listener_ || accepting_ || client_) return;
    accepting_ = true;
    listener_->async_wait(descriptor_base::wait_read, [this](const boost::system::error_code& ec) {
        accepting_ = false;
        if (ec || !listener_) return;
        int fd = ::accept4(listener_->native_handle(), nullptr, nullptr,
                           SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {
            accept_next();
            return;
        }
        if (client_) {
            trace::vfu_reject(trace_, "busy");
            ::close(fd);
            return;
        }
        client_ = std::make_shared<Client>(io_, fd);
        trace::vfu_connect(trace_, fd);
        arm_read(client_);
    });
}

void VfioUserServer::arm_read(const ClientPtr& c) {
    if (c->read_armed || c->closed) return;
    c->read_armed = true;
    c->sock.async_wait(descriptor_base::wait_read, [this, c](const boost::system::error_code& ec) {
        c->read_armed = false;
        if (ec || c->closed) return;
        receive(c);
    });
}

// Reads what the socket has (at most kReadBudget messages), then serves
// the requests in order.  Reading is re-armed before serving: a request
// whose handler waits for a DMA reply needs the reply to come in.
void VfioUserServer::receive(const ClientPtr& c) {
    const char* why = nullptr;
    bool drained = false;
    for (int n = 0; n < kReadBudget && !why && !c->closed; ++n) {
        Msg m;
        int err = 0;
        const RecvStatus st = c->reader.read(c->sock.native_handle(), m, &err);
        if (st == RecvStatus::Ok) {
            take(*c, std::move(m));
        } else if (st == RecvStatus::Again) {
            drained = true;
            break;
        } else if (st == RecvStatus::Closed) {
            why = c->reader.partial() ? "client closed the socket mid-message"
                                      : "client closed the socket";
        } else if (st == RecvStatus::Malformed) {
            trace::vfu_malformed(trace_, err, m.hdr.msg_size, m.hdr.command);
            why = "malformed header";
        } else {
            why = "socket error";
        }
    }
    if (c->closed) return;
    if (why) c->hangup = true;
    if (drained) {
        arm_read(c);
        watch_stall(c);
    } else if (!why) {  // budget spent: let other work run, then read on
        c->read_armed = true;
        boost::asio::post(io_, [this, c] {
            c->read_armed = false;
            if (!c->closed) receive(c);
        });
    }
    serve_queued(c);  // what came before a close or a bad header is served
    if (why) drop_client(*c, why);
}

void VfioUserServer::take(Client& c, Msg&& m) {
    if (m.is_reply()) complete(c, std::move(m));
    else c.incoming.push_back(std::move(m));
}

void VfioUserServer::serve_queued(const ClientPtr& c) {
    while (!c->closed && !c->incoming.empty()) {
        Msg m = std::move(c->incoming.front());
        c->incoming.pop_front();
        dispatch(*c, m);
    }
}

// A client mid-message is dropped once it has sent nothing for
// stall_timeout; any byte restarts the period.
void VfioUserServer::watch_stall(const ClientPtr& c) {
    if (c->stall_armed || c->closed || !c->reader.partial()) return;
    c->stall_armed = true;
    c->stall_mark = c->reader.bytes_received();
    c->stall_timer.expires_after(opts_.stall_timeout);
    c->stall_timer.async_wait([this, c](const boost::system::error_code& ec) {
        c->stall_armed = false;
        if (ec || c->closed || !c->reader.partial()) return;
        if (c->reader.bytes_received() == c->stall_mark) {
            trace::vfu_stalled(trace_, static_cast<uint64_t>(opts_.stall_timeout.count()));
            drop_client(*c, "stalled mid-message");
            return;
        }
        watch_stall(c);
    });
}

void VfioUserServer::send(Client& c, Header h, std::span<const uint8_t> payload,
                          std::span<const int> fds) {
    if (c.closed) return;
    const int e = c.outbox.send(c.sock.native_handle(), h, payload, fds);
    if (e == ENOBUFS) {
        trace::vfu_send_queue_full(trace_, c.outbox.queued_bytes(), c.outbox.queued_messages());
        drop_client(c, "client does not read its socket");
    } else if (e == EPIPE || e == ECONNRESET) {
        drop_client(c, "client closed the socket");
    } else if (e) {
        drop_client(c, "socket error");
    } else if (!c.outbox.empty()) {
        arm_write(c.shared_from_this());
    }
}

void VfioUserServer::arm_write(const ClientPtr& c) {
    if (c->write_armed || c->closed) return;
    c->write_armed = true;
    c->sock.async_wait(descriptor_base::wait_write, [this, c](const boost::system::error_code& ec) {
        c->write_armed = false;
        if (ec || c->closed) return;
        const int e = c->outbox.flush(c->sock.native_handle());
        if (e == EAGAIN) arm_write(c);
        else if (e == EPIPE || e == ECONNRESET) drop_client(*c, "client closed the socket");
        else if (e) drop_client(*c, "socket error");
    });
}

// Closes the connection now; its DMA maps and IRQ eventfds go when no DMA
// message is in flight (the engine waiting for one may hold pointers into
// the maps), and only then is the next client accepted.
void VfioUserServer::drop_client(Client& c, const char* why) {
    if (c.closed) return;
    c.closed = true;
    trace::vfu_disconnect(trace_, why, fn_.dma().count());
    boost::system::error_code ec;
    c.stall_timer.cancel();
    c.sock.close(ec);
    c.incoming.clear();
    if (client_.get() == &c) client_.reset();
    auto cleanup = [this] {
        fn_.dma().unmap_all();
        fn_.drop_irqs();
        accept_next();
    };
    if (dma_depth_ == 0) cleanup();
    else at_top_level(cleanup);
}

}  // namespace hcasim::pcie
