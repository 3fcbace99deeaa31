// RoCEv2 ICRC (see icrc.h).
#include "device/icrc.h"

#include <libdeflate.h>

#include <cstring>

namespace hcasim::device {
namespace {

constexpr size_t kIpLen = 20, kUdpLen = 8, kBthLen = 12;

}  // namespace

uint32_t crc32_update(uint32_t crc, const uint8_t* data, size_t len) {
    // libdeflate folds 16 to 64 bytes at a time with carry-less multiplies
    // (PCLMULQDQ/VPCLMULQDQ) where the CPU has them.
    return ::libdeflate_crc32(crc, data, len);
}

uint32_t roce_icrc_ipv4(const uint8_t* ip, size_t len) {
    // The masked copy of the headers that routers may touch.
    uint8_t head[8 + kIpLen + kUdpLen + kBthLen];
    std::memset(head, 0xff, 8);
    std::memcpy(head + 8, ip, kIpLen + kUdpLen + kBthLen);
    uint8_t* h = head + 8;
    h[1] = 0xff;                 // TOS
    h[8] = 0xff;                 // TTL
    h[10] = h[11] = 0xff;        // header checksum
    h[kIpLen + 6] = h[kIpLen + 7] = 0xff;  // UDP checksum
    h[kIpLen + kUdpLen + 4] = 0xff;        // BTH resv8a
    uint32_t crc = crc32_update(0, head, sizeof(head));
    const size_t fixed = kIpLen + kUdpLen + kBthLen;
    return crc32_update(crc, ip + fixed, len - fixed);
}

}  // namespace hcasim::device
