// Test helpers for vfio-user messages sent in pieces: the wire bytes of a
// request, and one sendmsg of some of them (with an fd as SCM_RIGHTS), so
// that a test decides where a message is cut.  Shared by the codec's unit
// tests and the server's host tests.
#pragma once

#include "vfio_user/codec.h"

#include <doctest/doctest.h>

#include <sys/socket.h>

#include <cstring>
#include <span>
#include <vector>

namespace hcasim::test {

inline std::vector<uint8_t> wire(uint16_t id, vfio_user::Command c,
                                 const std::vector<uint8_t>& payload) {
    using namespace vfio_user;
    std::vector<uint8_t> w;
    append(w, Header{id, static_cast<uint16_t>(c),
                     static_cast<uint32_t>(sizeof(Header) + payload.size()), kFlagTypeCommand, 0});
    w.insert(w.end(), payload.begin(), payload.end());
    return w;
}

// One sendmsg of `data`, with `fd` attached if >= 0.
inline void write_piece(int sock, std::span<const uint8_t> data, int fd = -1) {
    iovec iov{const_cast<uint8_t*>(data.data()), data.size()};
    msghdr mh{};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(int))];
    if (fd >= 0) {
        mh.msg_control = cbuf;
        mh.msg_controllen = sizeof(cbuf);
        cmsghdr* c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
    }
    REQUIRE(::sendmsg(sock, &mh, MSG_NOSIGNAL) == static_cast<ssize_t>(data.size()));
}

}  // namespace hcasim::test
