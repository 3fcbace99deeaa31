// RoCEv2 frames (device/roce_frame.h, device/icrc.h) against frames that
// Linux Soft-RoCE (rdma_rxe) put on a wire: tests/data/rxe-rocev2.pcap
// (560 RoCEv2 frames and 2 ARP frames between two guests).  Every RoCEv2
// frame parses, its ICRC recomputes to rxe's, and building the parsed
// packet again gives rxe's bytes.  Then the bad frames: every truncation,
// lengths that lie, every BTH opcode byte, flipped bits; each gives its
// error and reads nothing outside the frame (the suite runs under ASan).
#include "device/icrc.h"
#include "device/opcodes.h"
#include "device/roce_frame.h"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <pcap/pcap.h>

#include <map>
#include <set>
#include <string>
#include <vector>

using namespace hcasim::device;

namespace {

std::vector<std::vector<uint8_t>> read_pcap(const std::string& path) {
    char err[PCAP_ERRBUF_SIZE];
    pcap_t* pc = pcap_open_offline(path.c_str(), err);
    REQUIRE_MESSAGE(pc, err);
    std::vector<std::vector<uint8_t>> frames;
    pcap_pkthdr* h = nullptr;
    const u_char* data = nullptr;
    while (pcap_next_ex(pc, &h, &data) == 1) frames.emplace_back(data, data + h->caplen);
    pcap_close(pc);
    return frames;
}

const std::vector<std::vector<uint8_t>>& rxe_frames() {
    static const auto frames = read_pcap(HCASIM_TEST_DATA "/rxe-rocev2.pcap");
    return frames;
}

bool is_roce(const std::vector<uint8_t>& f) {
    return f.size() > 42 && f[12] == 0x08 && f[13] == 0x00 && f[23] == 17 && f[36] == 0x12 && f[37] == 0xb7;
}

// A valid frame to break: an RC SEND_ONLY of 5 bytes.
std::vector<uint8_t> sample(Packet* out = nullptr) {
    static const uint8_t payload[5] = {1, 2, 3, 4, 5};
    Packet p;
    p.opcode = bth::kSendOnly;
    p.dest_qp = 0x123456;
    p.psn = 0xabcdef;
    p.ack_req = true;
    p.sgid = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1};
    p.dgid = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 2};
    p.data = payload;
    p.len = 5;
    FrameAddress a;
    a.src_mac = {2, 0, 0, 0, 0, 1};
    a.dst_mac = {2, 0, 0, 0, 0, 2};
    std::vector<uint8_t> f;
    REQUIRE(build_roce_frame(p, a, f) == FrameError::None);
    if (out) *out = p;
    return f;
}

// Re-seals a frame after an edit: IP checksum and ICRC recomputed, so
// only the edited field is wrong.
void reseal(std::vector<uint8_t>& f) {
    uint8_t* ip = f.data() + 14;
    ip[10] = ip[11] = 0;
    uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2) sum += static_cast<uint32_t>(ip[i] << 8 | ip[i + 1]);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    ip[10] = static_cast<uint8_t>(~sum >> 8);
    ip[11] = static_cast<uint8_t>(~sum);
    const size_t total = static_cast<size_t>(ip[2] << 8 | ip[3]);
    if (total < 20 + 8 + 12 + 4 || 14 + total > f.size()) return;
    const uint32_t icrc = roce_icrc_ipv4(ip, total - 4);
    for (int i = 0; i < 4; ++i) ip[total - 4 + i] = static_cast<uint8_t>(icrc >> (8 * i));
}

}  // namespace

TEST_CASE("CRC-32 is zlib's") {
    const uint8_t text[] = "123456789";
    CHECK(crc32_update(0, text, 9) == 0xcbf43926u);
    CHECK(crc32_update(crc32_update(0, text, 4), text + 4, 5) == 0xcbf43926u);
}

TEST_CASE("every RoCEv2 frame rxe sent parses, its ICRC matches, and it builds back byte for byte") {
    const auto& frames = rxe_frames();
    REQUIRE(frames.size() == 562);
    std::map<uint8_t, int> opcodes;
    size_t roce = 0, arp = 0;
    for (size_t i = 0; i < frames.size(); ++i) {
        const auto& f = frames[i];
        if (f[12] == 0x08 && f[13] == 0x06) {
            ++arp;
            continue;
        }
        REQUIRE(is_roce(f));
        ++roce;
        Packet p;
        FrameAddress a;
        const FrameError e = parse_roce_frame(f.data(), f.size(), p, &a);
        CHECK_MESSAGE(e == FrameError::None, "frame ", i, ": ", to_string(e));
        if (e != FrameError::None) continue;
        ++opcodes[p.opcode];
        // The ICRC is the last 4 bytes of the IP packet, LSB first.
        const size_t total = static_cast<size_t>(f[16] << 8 | f[17]);
        const uint8_t* icrc = f.data() + 14 + total - 4;
        CHECK(roce_icrc_ipv4(f.data() + 14, total - 4) ==
              (uint32_t{icrc[0]} | uint32_t{icrc[1]} << 8 | uint32_t{icrc[2]} << 16 | uint32_t{icrc[3]} << 24));
        std::vector<uint8_t> again;
        REQUIRE(build_roce_frame(p, a, again) == FrameError::None);
        const std::vector<uint8_t> orig(f.begin(), f.begin() + 14 + total);  // without Ethernet padding
        size_t diff = 0;
        while (diff < std::min(again.size(), orig.size()) && again[diff] == orig[diff]) ++diff;
        CHECK_MESSAGE(again == orig, "frame ", i, " opcode ", int(p.opcode), " differs at byte ", diff,
                      diff < orig.size() ? fmt::format(" (rxe {:#04x})", orig[diff]) : std::string(""),
                      diff < again.size() ? fmt::format(" (ours {:#04x})", again[diff]) : std::string(""));
    }
    CHECK(roce == 560);
    CHECK(arp == 2);
    // RC SEND first/middle/last/only, WRITE first/middle/last, READ request
    // and response, ACK, atomic ACK, FETCH_ADD, UD SEND.
    for (uint8_t op : {0x00, 0x01, 0x02, 0x04, 0x06, 0x07, 0x08, 0x0c, 0x10, 0x11, 0x12, 0x14, 0x64})
        CHECK_MESSAGE(opcodes[op] > 0, "opcode ", int(op), " missing");
}

TEST_CASE("a built frame parses back to the same packet, for every opcode") {
    for (int op = 0; op < 256; ++op) {
        const OpInfo& info = op_info(static_cast<uint8_t>(op));
        if (!info.name) continue;
        uint8_t payload[7] = {9, 8, 7, 6, 5, 4, 3};
        Packet p;
        p.opcode = static_cast<uint8_t>(op);
        p.se = true;
        p.pkey = 0xffff;
        p.dest_qp = 0xfedcba;
        p.psn = 0x123;
        p.sgid = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3};
        p.dgid = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 4};
        p.traffic_class = 0x68;
        p.hop_limit = 17;
        p.va = 0x1122334455667788ull;
        p.rkey = 0xabcd;
        p.dma_len = 7;
        p.imm = 0x01020304;
        p.syndrome = 0x1f;
        p.msn = 0x777;
        p.swap_add = 5;
        p.compare = 6;
        p.orig = 7;
        p.qkey = 0x11111111;
        p.src_qp = 0x42;
        if (info.flags & kHasPayload) {
            p.data = payload;
            p.len = 7;
        }
        FrameAddress a;
        std::vector<uint8_t> f;
        REQUIRE(build_roce_frame(p, a, f) == FrameError::None);
        CHECK(f.size() % 2 == 0);
        Packet q;
        REQUIRE(parse_roce_frame(f.data(), f.size(), q) == FrameError::None);
        CHECK(q.opcode == p.opcode);
        CHECK(q.dest_qp == p.dest_qp);
        CHECK(q.psn == p.psn);
        CHECK(q.se);
        CHECK(q.sgid == p.sgid);
        CHECK(q.dgid == p.dgid);
        CHECK(q.traffic_class == 0x68);
        CHECK(q.hop_limit == 17);
        CHECK(q.len == p.len);
        if (p.len) CHECK(std::equal(q.data, q.data + q.len, payload));
        if (info.flags & (kHasReth | kHasAtomicEth)) CHECK(q.va == p.va);
        if (info.flags & kHasAtomicEth) CHECK(q.compare == 6);
        if (info.flags & kHasImm) CHECK(q.imm == p.imm);
        if (info.flags & kHasAeth) CHECK(q.msn == 0x777);
        if (info.flags & kHasAtomicAckEth) CHECK(q.orig == 7);
        if (info.flags & kHasDeth) CHECK(q.src_qp == 0x42);
    }
}

TEST_CASE("every truncation of a frame is refused, reading nothing past its end") {
    const auto f = sample();
    std::set<FrameError> seen;
    for (size_t n = 0; n < f.size(); ++n) {
        // A copy of exactly n bytes: ASan sees any read past it.
        std::vector<uint8_t> cut(f.begin(), f.begin() + static_cast<long>(n));
        Packet p;
        const FrameError e = parse_roce_frame(cut.data(), cut.size(), p);
        CHECK(e != FrameError::None);
        seen.insert(e);
    }
    CHECK(seen.count(FrameError::TruncatedEthernet));
    CHECK(seen.count(FrameError::TruncatedIp));
    CHECK(seen.count(FrameError::IpLength));
}

TEST_CASE("headers that lie are refused, each with its error") {
    struct Case {
        const char* what;
        size_t off;
        uint8_t value;
        FrameError want;
        bool reseal;
    };
    // Offsets: Ethernet 0, IPv4 14, UDP 34, BTH 42.
    const Case cases[] = {
        {"EtherType", 12, 0x86, FrameError::NotIpv4, false},
        {"IP version 6", 14, 0x65, FrameError::IpVersion, true},
        {"IHL 4", 14, 0x44, FrameError::IpVersion, true},
        {"IHL 6", 14, 0x46, FrameError::IpOptions, true},
        {"total length beyond the frame", 16, 0x7f, FrameError::IpLength, true},
        {"total length below the headers", 17, 10, FrameError::IpLength, true},
        {"more fragments", 20, 0x20, FrameError::IpFragment, true},
        {"fragment offset", 21, 0x01, FrameError::IpFragment, true},
        {"IP checksum", 24, 0x00, FrameError::IpChecksum, false},
        {"protocol TCP", 23, 6, FrameError::NotUdp, true},
        {"UDP length", 39, 0x01, FrameError::UdpLength, true},
        {"UDP port", 37, 0xb8, FrameError::NotRoceV2, true},
        {"TVer 1", 43, 0x41, FrameError::BthVersion, true},
        {"pad 3 on 5 bytes", 43, 0x70, FrameError::None, true},  // pad 3 < 8 bytes of body: fine
        {"ICRC", 0, 0, FrameError::BadIcrc, false},
    };
    for (const Case& c : cases) {
        auto f = sample();
        if (c.want == FrameError::BadIcrc) f[f.size() - 1] ^= 0x10;
        else f[c.off] = c.value;
        if (c.reseal) reseal(f);
        Packet p;
        CHECK_MESSAGE(parse_roce_frame(f.data(), f.size(), p) == c.want, c.what);
    }
    // A payload on an opcode without one, and a pad beyond the body.
    {
        Packet ack;
        auto f = sample(&ack);
        f[42] = bth::kAck;  // ACK: BTH + AETH, no payload; the 8 bytes of body lie
        reseal(f);
        Packet p;
        CHECK(parse_roce_frame(f.data(), f.size(), p) == FrameError::BadPad);
    }
}

TEST_CASE("every BTH opcode byte on a minimal frame: known ones parse, others are refused") {
    auto base = sample();
    for (int op = 0; op < 256; ++op) {
        auto f = base;
        f[42] = static_cast<uint8_t>(op);
        reseal(f);
        Packet p;
        const FrameError e = parse_roce_frame(f.data(), f.size(), p);
        const OpInfo& info = op_info(static_cast<uint8_t>(op));
        if (!info.name) {
            CHECK_MESSAGE(e == FrameError::UnknownOpcode, op);
        } else {
            // 8 bytes after the BTH (5 + pad 3): enough or not for its headers.
            const bool refused_or_ok = e == FrameError::None || e == FrameError::TruncatedBth || e == FrameError::BadPad;
            CHECK_MESSAGE(refused_or_ok, op);
            if (e == FrameError::None) CHECK(p.len <= 8);
        }
    }
}

TEST_CASE("a flipped bit anywhere past the Ethernet header is caught") {
    const auto f = sample();
    for (size_t byte = 14; byte < f.size(); ++byte) {
        for (int bit = 0; bit < 8; ++bit) {
            auto g = f;
            g[byte] ^= static_cast<uint8_t>(1u << bit);
            Packet p;
            const FrameError e = parse_roce_frame(g.data(), g.size(), p);
            // The ICRC skips TOS, TTL and the UDP checksum, which routers may change,
            // and the BTH's reserved byte.
            const bool variant = byte == 15 || byte == 22 || byte == 40 || byte == 41 || byte == 46;
            const bool masked_ok = e == FrameError::IpChecksum || e == FrameError::None;
            if (variant) CHECK_MESSAGE(masked_ok, byte);
            else CHECK_MESSAGE(e != FrameError::None, "byte ", byte, " bit ", bit);
        }
    }
}

TEST_CASE("GIDs that are not IPv4-mapped cannot be framed") {
    Packet p;
    sample(&p);
    p.dgid[10] = 0;
    FrameAddress a;
    std::vector<uint8_t> f;
    CHECK(build_roce_frame(p, a, f) == FrameError::NotIpv4Gid);
    CHECK(f.empty());
    uint32_t ip = 0;
    CHECK(gid_to_ipv4(Gid{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 1, 9}, ip));
    CHECK(ip == 0xc0a80109u);
}
