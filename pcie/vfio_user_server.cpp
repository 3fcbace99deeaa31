// vfio-user server (see vfio_user_server.h).
#include "pcie/vfio_user_server.h"

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace hcasim::pcie {

using namespace vfio_user;

namespace {

// Version reply: what this server supports (vfio-user spec §Version).
constexpr std::string_view kServerCaps =
    R"({"capabilities":{"max_msg_fds":8,"max_data_xfer_size":1048576,"pgsizes":4096,"max_dma_maps":1024}})";
static_assert(sizeof(Header) + sizeof(VersionPayload) + kServerCaps.size() + 1 <= kMaxVersionReply);

std::span<const uint8_t> bytes_of(const auto& v) {
    return {reinterpret_cast<const uint8_t*>(&v), sizeof(v)};
}

}  // namespace

VfioUserServer::VfioUserServer(boost::asio::io_context& io, HcaFunction& fn,
                               Tracer& trace)
    : io_(io), fn_(fn), trace_(trace) {
    fn_.hca().dma().set_message_port(this);
}

VfioUserServer::~VfioUserServer() {
    fn_.hca().dma().set_message_port(nullptr);
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
    trace_.event("vfu_listen", "socket={}", path);
    accept_next();
    return 0;
}

void VfioUserServer::stop() {
    if (client_) drop_client("server stopping");
    if (listener_) {
        listener_->close();
        listener_.reset();
    }
    if (!path_.empty()) {
        ::unlink(path_.c_str());
        path_.clear();
    }
}

void VfioUserServer::accept_next() {
    if (!listener_) return;
    listener_->async_wait(boost::asio::posix::descriptor_base::wait_read,
                          [this](const boost::system::error_code& ec) {
        if (ec || !listener_) return;
        int fd = ::accept4(listener_->native_handle(), nullptr, nullptr,
                           SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {
            accept_next();
            return;
        }
        if (client_) {  // one client at a time
            trace_.event("vfu_reject", "reason=busy");
            ::close(fd);
            accept_next();
            return;
        }
        client_.emplace(io_, fd);
        versioned_ = false;
        trace_.event("vfu_connect", "fd={}", fd);
        wait_client();
    });
}

void VfioUserServer::wait_client() {
    if (!client_) return;
    client_->async_wait(boost::asio::posix::descriptor_base::wait_read,
                        [this](const boost::system::error_code& ec) {
        if (ec || !client_) return;
        serve_one();
        wait_client();
    });
}

void VfioUserServer::drop_client(const char* why) {
    if (!client_) return;
    trace_.event("vfu_disconnect", "reason=\"{}\" dma_maps_dropped={}", why,
                 fn_.hca().dma().count());
    fn_.hca().dma().unmap_all();
    fn_.drop_irqs();
    client_->close();
    client_.reset();
    versioned_ = false;
    accept_next();
}

void VfioUserServer::serve_one() {
    Msg m;
    int err = 0;
    Endpoint ep(client_->native_handle());
    switch (ep.recv(m, kTimeoutMs, &err)) {
    case RecvStatus::Ok: break;
    case RecvStatus::Closed: drop_client("client closed the socket"); return;
    case RecvStatus::Timeout: drop_client("truncated message (timeout)"); return;
    case RecvStatus::IoError: drop_client("socket error"); return;
    case RecvStatus::Malformed:
        trace_.event("vfu_malformed", "errno={} size={} command={}", err, m.hdr.msg_size,
                     m.hdr.command);
        drop_client("malformed header");
        return;
    }
    if (m.is_reply()) {
        trace_.event("vfu_unexpected_reply", "msg_id={}", m.hdr.msg_id);
        return;
    }
    dispatch(m);
}

void VfioUserServer::dispatch(Msg& m) {
    static constexpr std::array<HandlerFn, kMaxCommand + 1> table = {
        &VfioUserServer::on_unsupported,      // 0
        &VfioUserServer::on_version,          // VERSION
        &VfioUserServer::on_dma_map,          // DMA_MAP
        &VfioUserServer::on_dma_unmap,        // DMA_UNMAP
        &VfioUserServer::on_device_get_info,  // DEVICE_GET_INFO
        &VfioUserServer::on_region_info,      // DEVICE_GET_REGION_INFO
        &VfioUserServer::on_unsupported,      // GET_REGION_IO_FDS
        &VfioUserServer::on_irq_info,         // DEVICE_GET_IRQ_INFO
        &VfioUserServer::on_set_irqs,         // DEVICE_SET_IRQS
        &VfioUserServer::on_region_read,      // REGION_READ
        &VfioUserServer::on_region_write,     // REGION_WRITE
        &VfioUserServer::on_unsupported,      // DMA_READ (server->client only)
        &VfioUserServer::on_unsupported,      // DMA_WRITE (server->client only)
        &VfioUserServer::on_device_reset,     // DEVICE_RESET
    };
    const auto cmd = static_cast<Command>(m.hdr.command);
    if (int e = check_request(m)) {
        trace_.event("vfu_bad_request", "cmd={} size={} errno={}", command_name(m.hdr.command),
                     m.hdr.msg_size, e);
        reply_error(m, e);
        return;
    }
    if (!versioned_ && cmd != Command::Version) {
        trace_.event("vfu_bad_request", "cmd={} reason=before VERSION", command_name(m.hdr.command));
        reply_error(m, EINVAL);
        return;
    }
    (this->*table[m.hdr.command])(m);
}

void VfioUserServer::reply(const Msg& req, std::span<const uint8_t> payload,
                           std::span<const int> fds) {
    if (req.no_reply() || !client_) return;
    Header h{req.hdr.msg_id, req.hdr.command, 0, kFlagTypeReply, 0};
    Endpoint(client_->native_handle()).send(h, payload, fds);
}

void VfioUserServer::reply_error(const Msg& req, int err) {
    if (req.no_reply() || !client_) return;
    Header h{req.hdr.msg_id, req.hdr.command, 0, kFlagTypeReply | kFlagError,
             static_cast<uint32_t>(err)};
    Endpoint(client_->native_handle()).send(h, {});
}

void VfioUserServer::on_version(Msg& m) {
    VersionPayload v{};
    read_at(std::span<const uint8_t>(m.payload), 0, v);
    if (v.major != 0 || versioned_) {
        reply_error(m, versioned_ ? EINVAL : ENOTSUP);
        return;
    }
    if (m.payload.size() > sizeof(VersionPayload)) {
        const char* json = reinterpret_cast<const char*>(m.payload.data() + sizeof(v));
        auto caps = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
        if (caps.is_discarded() || !caps.is_object()) {
            trace_.event("vfu_bad_request", "cmd=VERSION reason=capabilities are not JSON");
            reply_error(m, EINVAL);
            return;
        }
    }
    std::vector<uint8_t> out;
    append(out, VersionPayload{0, 0});
    out.insert(out.end(), kServerCaps.begin(), kServerCaps.end());
    out.push_back('\0');
    versioned_ = true;
    trace_.event("vfu_version", "client={}.{}", v.major, v.minor);
    reply(m, out);
}

void VfioUserServer::on_dma_map(Msg& m) {
    DmaMap map{};
    read_at(std::span<const uint8_t>(m.payload), 0, map);
    UniqueFd fd = m.fds.empty() ? UniqueFd{} : std::move(m.fds[0]);
    const bool has_fd = static_cast<bool>(fd);
    int e = fn_.hca().dma().map(map.address, map.size, map.flags, std::move(fd), map.offset);
    trace_.event("vfu_dma_map", "addr={:#x} size={:#x} flags={} fd={} offset={:#x} errno={}",
                 map.address, map.size, map.flags, has_fd ? "yes" : "no", map.offset, e);
    if (e) reply_error(m, e);
    else reply(m);
}

void VfioUserServer::on_dma_unmap(Msg& m) {
    DmaUnmap u{};
    read_at(std::span<const uint8_t>(m.payload), 0, u);
    int e = 0;
    if (u.flags & kDmaUnmapFlagAll) {
        if (u.address || u.size) e = EINVAL;
        else fn_.hca().dma().unmap_all();
    } else if (u.flags) {
        e = EINVAL;
    } else {
        e = fn_.hca().dma().unmap(u.address, u.size);
    }
    trace_.event("vfu_dma_unmap", "addr={:#x} size={:#x} flags={} errno={}", u.address, u.size,
                 u.flags, e);
    if (e) reply_error(m, e);
    else reply(m, bytes_of(u));
}

void VfioUserServer::on_device_get_info(Msg& m) {
    DeviceInfo info{sizeof(DeviceInfo), kDeviceFlagReset | kDeviceFlagPci, kNumRegions, kNumIrqs};
    reply(m, bytes_of(info));
}

void VfioUserServer::on_region_info(Msg& m) {
    RegionInfo req{};
    read_at(std::span<const uint8_t>(m.payload), 0, req);
    if (req.index >= kNumRegions) {
        reply_error(m, EINVAL);
        return;
    }
    const RegionDesc& r = fn_.region(req.index);
    RegionInfo info{sizeof(RegionInfo), r.flags, req.index, 0, r.size, 0};
    std::vector<uint8_t> caps;
    if (!r.areas.empty()) {
        SparseMmapCap cap{{kCapSparseMmap, 1, 0}, static_cast<uint32_t>(r.areas.size()), 0};
        append(caps, cap);
        for (const auto& a : r.areas) append(caps, a);
    }
    const uint32_t needed = static_cast<uint32_t>(sizeof(RegionInfo) + caps.size());
    std::vector<uint8_t> out;
    if (req.argsz < needed) {
        // Too small for the capability: say how much is needed (the client
        // asks again) and send no fd (spec §Region info).  No CAPS flag
        // either: QEMU rejects a CAPS flag whose cap_offset is not inside
        // the reply.
        info.argsz = needed;
        info.flags &= ~kRegionFlagCaps;
        append(out, info);
        reply(m, out);
        return;
    }
    info.argsz = needed;
    if (!caps.empty()) info.cap_offset = sizeof(RegionInfo);
    append(out, info);
    out.insert(out.end(), caps.begin(), caps.end());
    if (r.fd >= 0 && (r.flags & kRegionFlagMmap)) {
        const int fds[1] = {r.fd};
        reply(m, out, fds);
    } else {
        reply(m, out);
    }
}

void VfioUserServer::on_irq_info(Msg& m) {
    IrqInfo req{};
    read_at(std::span<const uint8_t>(m.payload), 0, req);
    if (req.index >= kNumIrqs) {
        reply_error(m, EINVAL);
        return;
    }
    reply(m, bytes_of(fn_.irq_info(req.index)));
}

void VfioUserServer::on_set_irqs(Msg& m) {
    IrqSet s{};
    read_at(std::span<const uint8_t>(m.payload), 0, s);
    std::span<const uint8_t> data(m.payload);
    data = data.subspan(sizeof(IrqSet));
    int e = fn_.set_irqs(s, m.fds, data);
    trace_.event("vfu_set_irqs", "index={} flags={:#x} start={} count={} fds={} errno={}", s.index,
                 s.flags, s.start, s.count, m.fds.size(), e);
    if (e) reply_error(m, e);
    else reply(m);
}

void VfioUserServer::on_region_read(Msg& m) {
    RegionAccess a{};
    read_at(std::span<const uint8_t>(m.payload), 0, a);
    std::vector<uint8_t> out;
    append(out, a);
    out.resize(sizeof(a) + a.count);
    int e = fn_.region_read(a.region, a.offset, std::span<uint8_t>(out).subspan(sizeof(a)));
    if (e) {
        trace_.event("vfu_bad_access", "read region={} offset={:#x} count={}", a.region, a.offset, a.count);
        reply_error(m, e);
    } else {
        reply(m, out);
    }
}

void VfioUserServer::on_region_write(Msg& m) {
    RegionAccess a{};
    read_at(std::span<const uint8_t>(m.payload), 0, a);
    int e = fn_.region_write(a.region, a.offset,
                             std::span<const uint8_t>(m.payload).subspan(sizeof(a)));
    if (e) {
        trace_.event("vfu_bad_access", "write region={} offset={:#x} count={}", a.region, a.offset, a.count);
        reply_error(m, e);
    } else {
        reply(m, bytes_of(a));
    }
}

void VfioUserServer::on_device_reset(Msg& m) {
    trace_.event("vfu_device_reset", "");
    fn_.reset();
    reply(m);
}

void VfioUserServer::on_unsupported(Msg& m) {
    trace_.event("vfu_bad_request", "cmd={} reason=not supported by this server",
                 command_name(m.hdr.command));
    reply_error(m, ENOTSUP);
}

int VfioUserServer::transact(Command cmd, std::span<const uint8_t> payload, Msg& rep) {
    if (!client_) return EIO;
    if (nesting_ > 4) return EIO;  // bounded: DMA from inside a nested request
    const uint16_t id = next_msg_id_++;
    Header h{id, static_cast<uint16_t>(cmd), 0, kFlagTypeCommand, 0};
    Endpoint ep(client_->native_handle());
    if (int e = ep.send(h, payload)) return e;
    ++nesting_;
    int result = EIO;
    for (;;) {
        int err = 0;
        Msg m;
        if (ep.recv(m, kTimeoutMs, &err) != RecvStatus::Ok) break;
        if (m.is_reply()) {
            if (m.hdr.msg_id != id) continue;  // stale reply
            result = m.is_error() ? (m.hdr.error ? static_cast<int>(m.hdr.error) : EIO) : 0;
            rep = std::move(m);
            break;
        }
        // The client may be waiting on us: serve it meanwhile.
        dispatch(m);
        if (!client_) break;
    }
    --nesting_;
    return result;
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

}  // namespace hcasim::pcie
