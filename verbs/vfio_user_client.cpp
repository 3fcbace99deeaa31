// vfio-user client (see vfio_user_client.h).
#include "verbs/vfio_user_client.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace hcasim::verbs {

using namespace vfio_user;

VfioUserClient::~VfioUserClient() {
    if (sock_) ::shutdown(sock_.get(), SHUT_RDWR);
    if (reader_.joinable()) reader_.join();
}

int VfioUserClient::connect(const std::string& path, DmaHandler dma) {
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
    dma_ = std::move(dma);
    reader_ = std::thread([this] { reader(); });
    static constexpr std::string_view caps =
        R"({"capabilities":{"max_msg_fds":8,"max_data_xfer_size":1048576}})";
    std::vector<uint8_t> p;
    append(p, VersionPayload{0, 0});
    p.insert(p.end(), caps.begin(), caps.end());
    p.push_back('\0');
    Message rep;
    return request(Command::Version, p, rep);
}

int VfioUserClient::send(const Header& h, std::span<const uint8_t> payload,
                         std::span<const int> fds) {
    std::lock_guard lock(send_mu_);
    return Endpoint(sock_.get()).send(h, payload, fds);
}

void VfioUserClient::reader() {
    Endpoint ep(sock_.get());
    for (;;) {
        Message m;
        const RecvStatus st = ep.recv(m, kTimeoutMs);
        if (st == RecvStatus::Timeout) continue;
        if (st != RecvStatus::Ok) break;
        if (!m.is_reply()) {
            serve_dma(m);
            continue;
        }
        std::lock_guard lock(mu_);
        replies_[m.hdr.msg_id] = std::move(m);
        cv_.notify_all();
    }
    std::lock_guard lock(mu_);
    dead_ = true;
    cv_.notify_all();
}

void VfioUserClient::serve_dma(Message& m) {
    DmaAccess a{};
    const bool read = m.hdr.command == static_cast<uint16_t>(Command::DmaRead);
    const bool write = m.hdr.command == static_cast<uint16_t>(Command::DmaWrite);
    int e = ENOTSUP;
    std::vector<uint8_t> out;
    if ((read || write) && read_at(std::span<const uint8_t>(m.payload), 0, a) &&
        a.count <= kMaxDataXfer) {
        append(out, a);
        if (read) {
            out.resize(sizeof(a) + a.count);
            e = dma_ ? dma_(a.address, out.data() + sizeof(a), a.count, false) : EFAULT;
            if (e) out.resize(sizeof(a));
        } else if (m.payload.size() == sizeof(a) + a.count) {
            e = dma_ ? dma_(a.address, m.payload.data() + sizeof(a), a.count, true) : EFAULT;
        } else {
            e = EINVAL;
        }
    }
    if (m.no_reply()) return;
    Header h{m.hdr.msg_id, m.hdr.command, 0, kFlagTypeReply, 0};
    if (e) {
        h.flags |= kFlagError;
        h.error = static_cast<uint32_t>(e);
        out.clear();
    }
    send(h, out);
}

int VfioUserClient::request(Command cmd, std::span<const uint8_t> payload, Message& rep,
                            std::span<const int> fds) {
    uint16_t id;
    {
        std::lock_guard lock(mu_);
        if (!sock_ || dead_) return ENOTCONN;
        id = next_id_++;
        if (next_id_ >= 0x8000) next_id_ = 1;  // the device numbers its own from 0x8000
    }
    Header h{id, static_cast<uint16_t>(cmd), 0, kFlagTypeCommand, 0};
    if (int e = send(h, payload, fds)) return e;
    std::unique_lock lock(mu_);
    const bool got = cv_.wait_for(lock, std::chrono::milliseconds(kTimeoutMs),
                                  [&] { return dead_ || replies_.count(id); });
    auto it = replies_.find(id);
    if (it == replies_.end()) return got ? EIO : ETIMEDOUT;
    rep = std::move(it->second);
    replies_.erase(it);
    if (rep.hdr.command != h.command) return EIO;
    if (rep.is_error()) return rep.hdr.error ? static_cast<int>(rep.hdr.error) : EIO;
    return 0;
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
