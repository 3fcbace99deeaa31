// vfio-user client (see vfio_user_client.h).
#include "verbs/vfio_user_client.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

namespace hcasim::verbs {

using namespace vfio_user;

VfioUserClient::~VfioUserClient() = default;

int VfioUserClient::connect(const std::string& path) {
    sockaddr_un sa{};
    if (path.size() >= sizeof(sa.sun_path)) return ENAMETOOLONG;
    sock_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!sock_) return errno;
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    if (::connect(sock_.get(), reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
        int e = errno;
        sock_.reset();
        return e;
    }
    static constexpr std::string_view caps =
        R"({"capabilities":{"max_msg_fds":8,"max_data_xfer_size":1048576}})";
    std::vector<uint8_t> p;
    append(p, VersionPayload{0, 0});
    p.insert(p.end(), caps.begin(), caps.end());
    p.push_back('\0');
    Message rep;
    if (int e = request(Command::Version, p, rep)) {
        sock_.reset();
        return e;
    }
    return 0;
}

int VfioUserClient::request(Command cmd, std::span<const uint8_t> payload, Message& rep,
                            std::span<const int> fds) {
    std::lock_guard lock(mu_);
    if (!sock_) return ENOTCONN;
    const uint16_t id = next_id_++;
    Endpoint ep(sock_.get());
    Header h{id, static_cast<uint16_t>(cmd), 0, kFlagTypeCommand, 0};
    if (int e = ep.send(h, payload, fds)) return e;
    for (;;) {
        switch (ep.recv(rep, kTimeoutMs)) {
        case RecvStatus::Ok: break;
        case RecvStatus::Timeout: return ETIMEDOUT;
        default: return EIO;
        }
        if (!rep.is_reply()) {
            // The device asked us for DMA: every map we offer has an fd,
            // so there is nothing to serve.
            Header eh{rep.hdr.msg_id, rep.hdr.command, 0, kFlagTypeReply | kFlagError, ENOTSUP};
            ep.send(eh, {});
            continue;
        }
        if (rep.hdr.msg_id != id || rep.hdr.command != h.command) return EIO;
        if (rep.is_error()) return rep.hdr.error ? static_cast<int>(rep.hdr.error) : EIO;
        return 0;
    }
}

int VfioUserClient::region_read(uint32_t region, uint64_t offset, void* dst, uint32_t count) {
    RegionAccess a{offset, region, count};
    std::vector<uint8_t> p;
    append(p, a);
    Message rep;
    if (int e = request(Command::RegionRead, p, rep)) return e;
    if (rep.payload.size() != sizeof(a) + count) return EIO;
    std::memcpy(dst, rep.payload.data() + sizeof(a), count);
    return 0;
}

int VfioUserClient::region_write(uint32_t region, uint64_t offset, const void* src,
                                 uint32_t count) {
    RegionAccess a{offset, region, count};
    std::vector<uint8_t> p;
    append(p, a);
    const auto* b = static_cast<const uint8_t*>(src);
    p.insert(p.end(), b, b + count);
    Message rep;
    return request(Command::RegionWrite, p, rep);
}

}  // namespace hcasim::verbs
