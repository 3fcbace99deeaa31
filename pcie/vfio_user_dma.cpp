// vfio-user server->client DMA messages and device work (see
// vfio_user_server.h).
//
// DMA to a map the client offered without an fd goes out as DMA_READ or
// DMA_WRITE.  The device's engine does its DMA synchronously, so the
// operation waits for the client's reply; it waits by turning the event
// loop (io_context::run_one_until), so the socket keeps being read (the
// reply, and requests the client needs answered first), the inspection
// socket answers and timers fire.  Bounded: kMaxDmaDepth messages in
// flight (a request served during a wait may itself DMA), opts_.dma_timeout
// per reply.  What must not run inside such a wait (device work posted by
// the HCA, a departed client's cleanup) goes through at_top_level.
//
// Source: vfio-user spec §DMA_READ, §DMA_WRITE (data at payload offset 16).
#include "pcie/vfio_user_server.h"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace hcasim::pcie {

using namespace vfio_user;

namespace {

std::span<const uint8_t> bytes_of(const auto& v) {
    return {reinterpret_cast<const uint8_t*>(&v), sizeof(v)};
}

}  // namespace

int VfioUserServer::transact(Command cmd, std::span<const uint8_t> payload, Msg& rep) {
    const ClientPtr c = client_;
    if (!c || c->closed) {
        trace::vfu_dma_error(trace_, command_name(static_cast<uint16_t>(cmd)), 0, "no client");
        return EIO;
    }
    if (dma_depth_ >= kMaxDmaDepth) {
        trace::vfu_dma_error(trace_, command_name(static_cast<uint16_t>(cmd)), 0, "too many DMA messages in flight");
        return EIO;
    }
    const uint16_t id = next_msg_id_;
    next_msg_id_ = next_msg_id_ == 0xffff ? 0x8000 : next_msg_id_ + 1;
    Transaction& t = c->pending[id];
    t = Transaction{static_cast<uint16_t>(cmd), false, {}};
    ++dma_depth_;  // from here on a client that leaves is cleaned up later
    send(*c, Header{id, static_cast<uint16_t>(cmd), 0, kFlagTypeCommand, 0}, payload);
    const auto deadline = std::chrono::steady_clock::now() + opts_.dma_timeout;
    while (!t.done && !c->closed && !c->hangup && !io_.stopped()) {
        if (io_.run_one_until(deadline) == 0 && std::chrono::steady_clock::now() >= deadline)
            break;
    }
    int result = EIO;
    if (t.done) {
        result = t.reply.is_error() ? (t.reply.hdr.error ? static_cast<int>(t.reply.hdr.error) : EIO) : 0;
        rep = std::move(t.reply);
    } else {
        trace::vfu_dma_error(trace_, command_name(static_cast<uint16_t>(cmd)), id,
                     c->closed || c->hangup ? "client left"
                     : io_.stopped()        ? "server stopping"
                                            : "no reply in time");
    }
    c->pending.erase(id);
    if (--dma_depth_ == 0 && !top_level_.empty() && !drain_posted_) {
        drain_posted_ = true;
        boost::asio::post(io_, [this] { drain_top_level(); });
    }
    return result;
}

// A reply from the client: it ends the transaction with its msg_id.
void VfioUserServer::complete(Client& c, Msg&& m) {
    auto it = c.pending.find(m.hdr.msg_id);
    if (it == c.pending.end() || it->second.done || it->second.command != m.hdr.command) {
        trace::vfu_unexpected_reply(trace_, m.hdr.msg_id);
        return;
    }
    it->second.reply = std::move(m);
    it->second.done = true;
}

int VfioUserServer::dma_read(uint64_t addr, void* dst, size_t len) {
    auto* out = static_cast<uint8_t*>(dst);
    for (size_t done = 0; done < len;) {
        const size_t n = std::min<size_t>(len - done, kMaxDataXfer);
        DmaAccess a{addr + done, n};
        Msg rep;
        if (int e = transact(Command::DmaRead, bytes_of(a), rep)) return e;
        if (rep.payload.size() != sizeof(a) + n) return EIO;
        std::memcpy(out + done, rep.payload.data() + sizeof(a), n);
        done += n;
    }
    return 0;
}

int VfioUserServer::dma_write(uint64_t addr, const void* src, size_t len) {
    const auto* in = static_cast<const uint8_t*>(src);
    for (size_t done = 0; done < len;) {
        const size_t n = std::min<size_t>(len - done, kMaxDataXfer);
        std::vector<uint8_t> buf;
        append(buf, DmaAccess{addr + done, n});
        buf.insert(buf.end(), in + done, in + done + n);
        Msg rep;
        if (int e = transact(Command::DmaWrite, buf, rep)) return e;
        done += n;
    }
    return 0;
}

void VfioUserServer::post_device_work(std::function<void()> fn) {
    at_top_level(std::move(fn));
}

// One FIFO for everything that waits for the top level, so device work
// keeps its order (two doorbells of a channel run in the order rung).
void VfioUserServer::at_top_level(std::function<void()> fn) {
    top_level_.push_back(std::move(fn));
    if (drain_posted_) return;
    drain_posted_ = true;
    boost::asio::post(io_, [this] { drain_top_level(); });
}

void VfioUserServer::drain_top_level() {
    drain_posted_ = false;
    // A job that waits for a DMA reply stops the drain (the wait may run
    // this function again: it returns at once); the transaction's end
    // posts it anew.
    while (dma_depth_ == 0 && !top_level_.empty()) {
        auto fn = std::move(top_level_.front());
        top_level_.pop_front();
        fn();
    }
}

}  // namespace hcasim::pcie
