// RoCEv2 frame codec (see roce_frame.h).
#include "device/roce_frame.h"

#include "device/icrc.h"
#include "device/ipv4.h"
#include "device/opcodes.h"

#include <cassert>
#include <cstring>

namespace hcasim::device {
namespace {

// Writes big-endian fields into a buffer sized beforehand.
class Writer {
public:
    explicit Writer(uint8_t* p) : p_(p) {}
    void u8(uint8_t v) { *p_++ = v; }
    void u16(uint16_t v) {
        p_[0] = static_cast<uint8_t>(v >> 8);
        p_[1] = static_cast<uint8_t>(v);
        p_ += 2;
    }
    void u24(uint32_t v) {
        u8(static_cast<uint8_t>(v >> 16));
        u16(static_cast<uint16_t>(v));
    }
    void u32(uint32_t v) {
        u16(static_cast<uint16_t>(v >> 16));
        u16(static_cast<uint16_t>(v));
    }
    void u64(uint64_t v) {
        u32(static_cast<uint32_t>(v >> 32));
        u32(static_cast<uint32_t>(v));
    }
    void bytes(const void* p, size_t n) {
        if (n) std::memcpy(p_, p, n);
        p_ += n;
    }
    uint8_t* at() const { return p_; }
    void skip(size_t n) { p_ += n; }

private:
    uint8_t* p_;
};

class Reader {
public:
    explicit Reader(const uint8_t* p) : p_(p) {}
    uint8_t u8() { return *p_++; }
    uint16_t u16() {
        const uint16_t v = static_cast<uint16_t>(p_[0] << 8 | p_[1]);
        p_ += 2;
        return v;
    }
    uint32_t u24() {
        const uint32_t hi = u8();
        return hi << 16 | u16();
    }
    uint32_t u32() {
        const uint32_t hi = u16();
        return hi << 16 | u16();
    }
    uint64_t u64() {
        const uint64_t hi = u32();
        return hi << 32 | u32();
    }
    void bytes(void* dst, size_t n) {
        std::memcpy(dst, p_, n);
        p_ += n;
    }
    const uint8_t* at() const { return p_; }

private:
    const uint8_t* p_;
};

// Extension headers in wire order (IBTA 9.3; Annex A17 has no RDETH).
void write_ext(Writer& w, const Packet& p, uint32_t f) {
    if (f & kHasDeth) {
        w.u32(p.qkey);
        w.u8(0);
        w.u24(p.src_qp);
    }
    if (f & kHasReth) {
        w.u64(p.va);
        w.u32(p.rkey);
        w.u32(p.dma_len);
    }
    if (f & kHasAtomicEth) {
        w.u64(p.va);
        w.u32(p.rkey);
        w.u64(p.swap_add);
        w.u64(p.compare);
    }
    if (f & kHasAeth) {
        w.u8(p.syndrome);
        w.u24(p.msn);
    }
    if (f & kHasAtomicAckEth) w.u64(p.orig);
    if (f & kHasImm) w.bytes(&p.imm, 4);  // already in network order
}

void read_ext(Reader& r, Packet& p, uint32_t f) {
    if (f & kHasDeth) {
        p.qkey = r.u32();
        r.u8();
        p.src_qp = r.u24();
    }
    if (f & kHasReth) {
        p.va = r.u64();
        p.rkey = r.u32();
        p.dma_len = r.u32();
    }
    if (f & kHasAtomicEth) {
        p.va = r.u64();
        p.rkey = r.u32();
        p.swap_add = r.u64();
        p.compare = r.u64();
    }
    if (f & kHasAeth) {
        p.syndrome = r.u8();
        p.msn = r.u24();
    }
    if (f & kHasAtomicAckEth) p.orig = r.u64();
    if (f & kHasImm) r.bytes(&p.imm, 4);
}

}  // namespace

const char* to_string(FrameError e) {
    switch (e) {
    case FrameError::None: return "none";
    case FrameError::TruncatedEthernet: return "truncated Ethernet header";
    case FrameError::NotIpv4: return "not IPv4";
    case FrameError::TruncatedIp: return "truncated IPv4 header";
    case FrameError::IpVersion: return "IP version or header length";
    case FrameError::IpOptions: return "IPv4 options";
    case FrameError::IpLength: return "IPv4 total length";
    case FrameError::IpFragment: return "IPv4 fragment";
    case FrameError::IpChecksum: return "IPv4 header checksum";
    case FrameError::NotUdp: return "not UDP";
    case FrameError::UdpLength: return "UDP length";
    case FrameError::NotRoceV2: return "not UDP port 4791";
    case FrameError::TruncatedBth: return "truncated transport headers";
    case FrameError::BthVersion: return "BTH transport version";
    case FrameError::UnknownOpcode: return "unknown BTH opcode";
    case FrameError::BadPad: return "pad count or payload";
    case FrameError::BadIcrc: return "bad ICRC";
    case FrameError::NotIpv4Gid: return "GID not IPv4-mapped";
    }
    return "?";
}

FrameError build_roce_frame(const Packet& p, const FrameAddress& addr, std::vector<uint8_t>& out) {
    out.clear();
    uint32_t sip = 0, dip = 0;
    if (!gid_to_ipv4(p.sgid, sip) || !gid_to_ipv4(p.dgid, dip)) return FrameError::NotIpv4Gid;
    const OpInfo& op = op_info(p.opcode);
    if (!op.name) return FrameError::UnknownOpcode;
    const uint32_t pad = (4 - (p.len & 3)) & 3;
    const size_t transport = op.hdr_len + size_t{p.len} + pad + kIcrcLen;
    const size_t ip_total = kIpv4HeaderLen + kUdpHeaderLen + transport;
    out.resize(kEthHeaderLen + ip_total);  // a reused buffer keeps its capacity
    Writer w(out.data());
    w.bytes(addr.dst_mac.data(), 6);
    w.bytes(addr.src_mac.data(), 6);
    w.u16(kEtherTypeIpv4);
    // IPv4 (RFC 791): DF set, as RoCEv2 senders do.
    uint8_t* const ip = w.at();
    write_ipv4_header({p.traffic_class, static_cast<uint16_t>(ip_total), addr.ip_id, p.hop_limit, sip, dip}, w.at());
    w.skip(kIpv4HeaderLen);
    // UDP: checksum 0 (Annex A17.3.2: the ICRC protects the packet).
    w.u16(addr.udp_sport);
    w.u16(kRoceV2Port);
    w.u16(static_cast<uint16_t>(kUdpHeaderLen + transport));
    w.u16(0);
    // BTH (9.2): opcode; SE, MigReq (0, as Linux rxe sends it), pad,
    // TVer 0; P_Key; reserved; DestQP; AckReq; PSN.
    w.u8(p.opcode);
    w.u8(static_cast<uint8_t>((p.se ? 0x80 : 0) | (pad << 4)));
    w.u16(p.pkey);
    w.u8(0);
    w.u24(p.dest_qp);
    w.u8(p.ack_req ? 0x80 : 0);
    w.u24(p.psn);
    write_ext(w, p, op.flags);
    w.bytes(p.data, p.len);
    for (uint32_t i = 0; i < pad; ++i) w.u8(0);
    const uint32_t icrc = roce_icrc_ipv4(ip, static_cast<size_t>(w.at() - ip));
    for (int i = 0; i < 4; ++i) w.u8(static_cast<uint8_t>(icrc >> (8 * i)));  // LSB first
    assert(w.at() == out.data() + out.size());  // the opcode table's hdr_len matches write_ext
    return FrameError::None;
}

FrameError parse_roce_frame(const uint8_t* frame, size_t len, Packet& p, FrameAddress* addr) {
    if (len < kEthHeaderLen) return FrameError::TruncatedEthernet;
    if ((frame[12] << 8 | frame[13]) != kEtherTypeIpv4) return FrameError::NotIpv4;
    const uint8_t* ip = frame + kEthHeaderLen;
    const size_t avail = len - kEthHeaderLen;
    if (avail < kIpv4HeaderLen) return FrameError::TruncatedIp;
    if ((ip[0] >> 4) != 4) return FrameError::IpVersion;
    if ((ip[0] & 0xf) != 5) return (ip[0] & 0xf) > 5 ? FrameError::IpOptions : FrameError::IpVersion;
    const size_t total = static_cast<size_t>(ip[2] << 8 | ip[3]);
    if (total < kIpv4HeaderLen + kUdpHeaderLen || total > avail) return FrameError::IpLength;
    if ((ip[6] & 0x3f) || ip[7]) return FrameError::IpFragment;  // MF or a fragment offset
    if (ip_checksum(ip, kIpv4HeaderLen) != 0) return FrameError::IpChecksum;
    if (ip[9] != 17) return FrameError::NotUdp;
    const uint8_t* udp = ip + kIpv4HeaderLen;
    const size_t udp_len = static_cast<size_t>(udp[4] << 8 | udp[5]);
    if (udp_len != total - kIpv4HeaderLen) return FrameError::UdpLength;
    if ((udp[2] << 8 | udp[3]) != kRoceV2Port) return FrameError::NotRoceV2;
    const uint8_t* bth = udp + kUdpHeaderLen;
    const size_t transport = udp_len - kUdpHeaderLen;
    if (transport < kBthLen + kIcrcLen) return FrameError::TruncatedBth;
    if (bth[1] & 0x0f) return FrameError::BthVersion;
    const OpInfo& op = op_info(bth[0]);
    if (!op.name) return FrameError::UnknownOpcode;
    if (transport < size_t{op.hdr_len} + kIcrcLen) return FrameError::TruncatedBth;
    const uint32_t pad = (bth[1] >> 4) & 3;
    const size_t body = transport - op.hdr_len - kIcrcLen;  // payload + pad
    if (pad > body || (!(op.flags & kHasPayload) && body != 0)) return FrameError::BadPad;
    const uint8_t* icrc_at = bth + transport - kIcrcLen;
    const uint32_t icrc = uint32_t{icrc_at[0]} | uint32_t{icrc_at[1]} << 8 | uint32_t{icrc_at[2]} << 16 |
                          uint32_t{icrc_at[3]} << 24;
    if (roce_icrc_ipv4(ip, total - kIcrcLen) != icrc) return FrameError::BadIcrc;

    p = Packet{};
    Reader r(bth);
    p.opcode = r.u8();
    const uint8_t flags = r.u8();
    p.se = flags & 0x80;
    p.pad = static_cast<uint8_t>(pad);
    p.pkey = r.u16();
    r.u8();
    p.dest_qp = r.u24();
    p.ack_req = r.u8() & 0x80;
    p.psn = r.u24();
    read_ext(r, p, op.flags);
    p.data = r.at();
    p.len = static_cast<uint32_t>(body - pad);
    p.traffic_class = ip[1];
    p.hop_limit = ip[8];
    p.sgid = ipv4_mapped_gid(uint32_t{ip[12]} << 24 | uint32_t{ip[13]} << 16 | uint32_t{ip[14]} << 8 | ip[15]);
    p.dgid = ipv4_mapped_gid(uint32_t{ip[16]} << 24 | uint32_t{ip[17]} << 16 | uint32_t{ip[18]} << 8 | ip[19]);
    if (addr) {
        std::memcpy(addr->dst_mac.data(), frame, 6);
        std::memcpy(addr->src_mac.data(), frame + 6, 6);
        addr->udp_sport = static_cast<uint16_t>(udp[0] << 8 | udp[1]);
        addr->ip_id = static_cast<uint16_t>(ip[4] << 8 | ip[5]);
    }
    return FrameError::None;
}

}  // namespace hcasim::device
