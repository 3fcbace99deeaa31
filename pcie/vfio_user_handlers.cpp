// vfio-user request handlers: the dispatch table and one small handler
// per command (see vfio_user_server.h).
#include "pcie/vfio_user_server.h"

#include <nlohmann/json.hpp>

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

void VfioUserServer::dispatch(Client& c, Msg& m) {
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
        trace::vfu_bad_request(trace_, command_name(m.hdr.command), m.hdr.msg_size, e, "bad request");
        reply_error(c, m, e);
        return;
    }
    if (!c.versioned && cmd != Command::Version) {
        trace::vfu_bad_request(trace_, command_name(m.hdr.command), m.hdr.msg_size, EINVAL, "before VERSION");
        reply_error(c, m, EINVAL);
        return;
    }
    (this->*table[m.hdr.command])(c, m);
}

void VfioUserServer::reply(Client& c, const Msg& req, std::span<const uint8_t> payload,
                           std::span<const int> fds) {
    if (req.no_reply()) return;
    send(c, Header{req.hdr.msg_id, req.hdr.command, 0, kFlagTypeReply, 0}, payload, fds);
}

void VfioUserServer::reply_error(Client& c, const Msg& req, int err) {
    if (req.no_reply()) return;
    send(c, Header{req.hdr.msg_id, req.hdr.command, 0, kFlagTypeReply | kFlagError,
                   static_cast<uint32_t>(err)}, {});
}

void VfioUserServer::on_version(Client& c, Msg& m) {
    VersionPayload v{};
    read_at(std::span<const uint8_t>(m.payload), 0, v);
    if (v.major != 0 || c.versioned) {
        reply_error(c, m, c.versioned ? EINVAL : ENOTSUP);
        return;
    }
    if (m.payload.size() > sizeof(VersionPayload)) {
        const char* json = reinterpret_cast<const char*>(m.payload.data() + sizeof(v));
        auto caps = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
        if (caps.is_discarded() || !caps.is_object()) {
            trace::vfu_bad_request(trace_, "VERSION", m.hdr.msg_size, EINVAL, "capabilities are not JSON");
            reply_error(c, m, EINVAL);
            return;
        }
    }
    std::vector<uint8_t> out;
    append(out, VersionPayload{0, 0});
    out.insert(out.end(), kServerCaps.begin(), kServerCaps.end());
    out.push_back('\0');
    c.versioned = true;
    trace::vfu_version(trace_, v.major, v.minor);
    reply(c, m, out);
}

void VfioUserServer::on_dma_map(Client& c, Msg& m) {
    DmaMap map{};
    read_at(std::span<const uint8_t>(m.payload), 0, map);
    UniqueFd fd = m.fds.empty() ? UniqueFd{} : std::move(m.fds[0]);
    const bool has_fd = static_cast<bool>(fd);
    int e = fn_.dma().map(map.address, map.size, map.flags, std::move(fd), map.offset);
    trace::vfu_dma_map(trace_, map.address, map.size, map.flags, has_fd ? "yes" : "no", map.offset, e);
    if (e) reply_error(c, m, e);
    else reply(c, m);
}

void VfioUserServer::on_dma_unmap(Client& c, Msg& m) {
    DmaUnmap u{};
    read_at(std::span<const uint8_t>(m.payload), 0, u);
    int e = 0;
    if (u.flags & kDmaUnmapFlagAll) {
        if (u.address || u.size) e = EINVAL;
        else fn_.dma().unmap_all();
    } else if (u.flags) {
        e = EINVAL;
    } else {
        e = fn_.dma().unmap(u.address, u.size);
    }
    trace::vfu_dma_unmap(trace_, u.address, u.size, u.flags, e);
    if (e) reply_error(c, m, e);
    else reply(c, m, bytes_of(u));
}

void VfioUserServer::on_device_get_info(Client& c, Msg& m) {
    DeviceInfo info{sizeof(DeviceInfo), kDeviceFlagReset | kDeviceFlagPci, kNumRegions, kNumIrqs};
    reply(c, m, bytes_of(info));
}

void VfioUserServer::on_region_info(Client& c, Msg& m) {
    RegionInfo req{};
    read_at(std::span<const uint8_t>(m.payload), 0, req);
    if (req.index >= kNumRegions) {
        reply_error(c, m, EINVAL);
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
        reply(c, m, out);
        return;
    }
    info.argsz = needed;
    if (!caps.empty()) info.cap_offset = sizeof(RegionInfo);
    append(out, info);
    out.insert(out.end(), caps.begin(), caps.end());
    if (r.fd >= 0 && (r.flags & kRegionFlagMmap)) {
        const int fds[1] = {r.fd};
        reply(c, m, out, fds);
    } else {
        reply(c, m, out);
    }
}

void VfioUserServer::on_irq_info(Client& c, Msg& m) {
    IrqInfo req{};
    read_at(std::span<const uint8_t>(m.payload), 0, req);
    if (req.index >= kNumIrqs) {
        reply_error(c, m, EINVAL);
        return;
    }
    reply(c, m, bytes_of(fn_.irq_info(req.index)));
}

void VfioUserServer::on_set_irqs(Client& c, Msg& m) {
    IrqSet s{};
    read_at(std::span<const uint8_t>(m.payload), 0, s);
    std::span<const uint8_t> data(m.payload);
    data = data.subspan(sizeof(IrqSet));
    int e = fn_.set_irqs(s, m.fds, data);
    trace::vfu_set_irqs(trace_, s.index, s.flags, s.start, s.count, m.fds.size(), e);
    if (e) reply_error(c, m, e);
    else reply(c, m);
}

void VfioUserServer::on_region_read(Client& c, Msg& m) {
    RegionAccess a{};
    read_at(std::span<const uint8_t>(m.payload), 0, a);
    std::vector<uint8_t> out;
    append(out, a);
    out.resize(sizeof(a) + a.count);
    int e = fn_.region_read(a.region, a.offset, std::span<uint8_t>(out).subspan(sizeof(a)));
    if (e) {
        trace::vfu_bad_access(trace_, "read", a.region, a.offset, a.count);
        reply_error(c, m, e);
    } else {
        reply(c, m, out);
    }
}

void VfioUserServer::on_region_write(Client& c, Msg& m) {
    RegionAccess a{};
    read_at(std::span<const uint8_t>(m.payload), 0, a);
    int e = fn_.region_write(a.region, a.offset,
                             std::span<const uint8_t>(m.payload).subspan(sizeof(a)));
    if (e) {
        trace::vfu_bad_access(trace_, "write", a.region, a.offset, a.count);
        reply_error(c, m, e);
    } else {
        reply(c, m, bytes_of(a));
    }
}

void VfioUserServer::on_device_reset(Client& c, Msg& m) {
    trace::vfu_device_reset(trace_);
    fn_.reset();
    reply(c, m);
}

void VfioUserServer::on_unsupported(Client& c, Msg& m) {
    trace::vfu_bad_request(trace_, command_name(m.hdr.command), m.hdr.msg_size, ENOTSUP,
                           "not supported by this server");
    reply_error(c, m, ENOTSUP);
}

}  // namespace hcasim::pcie
