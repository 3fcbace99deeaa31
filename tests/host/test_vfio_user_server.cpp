// Host-direct: hcasim-device's vfio-user server against a raw client.
// Protocol answers, reply sizes QEMU accepts, malformed messages, clients
// that vanish, and DMA carried by DMA_READ/DMA_WRITE messages when a map
// has no fd.  After every bad input the device must keep serving.
#include "abi/hcasim_abi.h"
#include "pcie/vfio_user_codec.h"
#include "tests/host/device_process.h"

#include <doctest/doctest.h>

#include <cerrno>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

using namespace hcasim;
using namespace hcasim::vfio_user;
using hcasim::test::DeviceProcess;

namespace {

class RawClient {
public:
    explicit RawClient(const std::string& path) {
        fd_.reset(::socket(AF_UNIX, SOCK_STREAM, 0));
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        std::strncpy(sa.sun_path, path.c_str(), sizeof(sa.sun_path) - 1);
        REQUIRE(::connect(fd_.get(), reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0);
    }
    int fd() const { return fd_.get(); }
    uint16_t send(Command c, const std::vector<uint8_t>& p, uint32_t flags = 0,
                  std::vector<int> fds = {}) {
        const uint16_t id = next_++;
        REQUIRE(Endpoint(fd_.get()).send({id, static_cast<uint16_t>(c), 0, flags, 0}, p, fds) == 0);
        return id;
    }
    Message recv(int timeout_ms = 2000) {
        Message m;
        CHECK(Endpoint(fd_.get()).recv(m, timeout_ms) == RecvStatus::Ok);
        return m;
    }
    Message call(Command c, const std::vector<uint8_t>& p, std::vector<int> fds = {}) {
        const uint16_t id = send(c, p, 0, std::move(fds));
        Message m = recv();
        CHECK(m.hdr.msg_id == id);
        CHECK(m.is_reply());
        return m;
    }
    void version() {
        std::vector<uint8_t> p;
        append(p, VersionPayload{0, 0});
        const std::string caps = R"({"capabilities":{"max_msg_fds":16}})";
        p.insert(p.end(), caps.begin(), caps.end());
        p.push_back(0);
        Message m = call(Command::Version, p);
        REQUIRE_FALSE(m.is_error());
        CHECK(m.hdr.msg_size <= kMaxVersionReply);
    }
    int write32(uint32_t region, uint64_t off, uint32_t v) {
        std::vector<uint8_t> p;
        append(p, RegionAccess{off, region, 4});
        append(p, v);
        Message m = call(Command::RegionWrite, p);
        return m.is_error() ? static_cast<int>(m.hdr.error) : 0;
    }
    uint32_t read32(uint32_t region, uint64_t off) {
        std::vector<uint8_t> p;
        append(p, RegionAccess{off, region, 4});
        Message m = call(Command::RegionRead, p);
        uint32_t v = 0;
        if (!m.is_error()) read_at(std::span<const uint8_t>(m.payload), sizeof(RegionAccess), v);
        return v;
    }

private:
    UniqueFd fd_;
    uint16_t next_ = 1;
};

template <class T>
std::vector<uint8_t> bytes(const T& v) {
    std::vector<uint8_t> b;
    append(b, v);
    return b;
}

}  // namespace

TEST_CASE("VERSION first; replies fit QEMU's buffers") {
    DeviceProcess dev;
    RawClient c(dev.socket());
    Message early = c.call(Command::DeviceGetInfo, bytes(DeviceInfo{16, 0, 0, 0}));
    CHECK(early.is_error());
    CHECK(early.hdr.error == EINVAL);
    c.version();
    Message info = c.call(Command::DeviceGetInfo, bytes(DeviceInfo{16, 0, 0, 0}));
    CHECK(info.hdr.msg_size <= 32);
    DeviceInfo di{};
    read_at(std::span<const uint8_t>(info.payload), 0, di);
    CHECK((di.flags & kDeviceFlagPci) != 0);
    CHECK(di.num_regions >= 8);
    CHECK(di.num_irqs >= 3);
    Message irq = c.call(Command::DeviceGetIrqInfo, bytes(IrqInfo{16, 0, kIrqMsix, 0}));
    CHECK(irq.hdr.msg_size <= 32);
    IrqInfo ii{};
    read_at(std::span<const uint8_t>(irq.payload), 0, ii);
    CHECK(ii.count == HCASIM_MSIX_VECTORS);
    Message reset = c.call(Command::DeviceReset, {});
    CHECK(reset.hdr.msg_size == 16);
    CHECK(c.read32(HCASIM_BAR_REGS, HCASIM_REG_MAGIC) == HCASIM_MAGIC);
}

TEST_CASE("GET_REGION_INFO: sparse mmap capability and fd for BAR2") {
    DeviceProcess dev({"--memic-size", "65536"});
    RawClient c(dev.socket());
    c.version();
    Message small = c.call(Command::DeviceGetRegionInfo,
                           bytes(RegionInfo{sizeof(RegionInfo), 0, HCASIM_BAR_MEMIC, 0, 0, 0}));
    RegionInfo ri{};
    read_at(std::span<const uint8_t>(small.payload), 0, ri);
    CHECK(small.hdr.msg_size <= sizeof(RegionInfo) + 16);  // argsz + 16
    CHECK(small.fds.empty());
    CHECK((ri.flags & kRegionFlagCaps) == 0);  // QEMU rejects CAPS without a cap_offset
    REQUIRE(ri.argsz > sizeof(RegionInfo));
    Message full = c.call(Command::DeviceGetRegionInfo,
                          bytes(RegionInfo{ri.argsz, 0, HCASIM_BAR_MEMIC, 0, 0, 0}));
    read_at(std::span<const uint8_t>(full.payload), 0, ri);
    // The 64 KiB pool, 2 op windows, then the UAR area (status page + 512
    // UARs), rounded to a power of 2.
    CHECK(ri.size == 4 * 1024 * 1024);
    CHECK((ri.flags & kRegionFlagMmap) != 0);
    CHECK(full.fds.size() == 1);
    SparseMmapCap cap{};
    REQUIRE(read_at(std::span<const uint8_t>(full.payload), ri.cap_offset, cap));
    CHECK(cap.header.id == kCapSparseMmap);
    CHECK(cap.nr_areas == 2);
    SparseArea area{};
    REQUIRE(read_at(std::span<const uint8_t>(full.payload), ri.cap_offset + sizeof(cap), area));
    CHECK(area.offset == 0);
    CHECK(area.size == 65536);  // the pool is mmap-able; op windows trap
    REQUIRE(read_at(std::span<const uint8_t>(full.payload), ri.cap_offset + sizeof(cap) + sizeof(area), area));
    CHECK(area.offset == 3 * 65536);  // the UAR area: doorbells never trap
    CHECK(area.size == (HCASIM_NUM_UARS + 1) * 4096);
    Message cfg = c.call(Command::DeviceGetRegionInfo,
                         bytes(RegionInfo{sizeof(RegionInfo), 0, kRegionConfig, 0, 0, 0}));
    read_at(std::span<const uint8_t>(cfg.payload), 0, ri);
    CHECK(ri.size == 4096);
    Message bad = c.call(Command::DeviceGetRegionInfo,
                         bytes(RegionInfo{sizeof(RegionInfo), 0, 99, 0, 0, 0}));
    CHECK(bad.is_error());
}

TEST_CASE("malformed requests get error replies and the device keeps serving") {
    DeviceProcess dev;
    RawClient c(dev.socket());
    c.version();
    std::vector<uint8_t> p;
    append(p, RegionAccess{0, HCASIM_BAR_REGS, 8});
    append(p, uint32_t{0});  // 4 bytes of data for a count of 8
    Message m = c.call(Command::RegionWrite, p);
    CHECK(m.is_error());
    CHECK(m.hdr.error == EINVAL);
    Message oob = c.call(Command::RegionRead, bytes(RegionAccess{HCASIM_BAR0_SIZE - 2, 0, 4}));
    CHECK(oob.is_error());
    Message dma = c.call(Command::DmaRead, bytes(DmaAccess{0, 4}));  // server->client only
    CHECK(dma.is_error());
    Message unmap = c.call(Command::DmaUnmap, bytes(DmaUnmap{24, 0, 0x1000, 0x1000}));
    CHECK(unmap.is_error());
    CHECK(unmap.hdr.error == ENOENT);
    Message map_nofd = c.call(Command::DmaMap, bytes(DmaMap{32, 3, 0, 0x1000, 0x1000}));
    CHECK_FALSE(map_nofd.is_error());
    Message overlap = c.call(Command::DmaMap, bytes(DmaMap{32, 3, 0, 0x1800, 0x1000}));
    CHECK(overlap.hdr.error == EEXIST);
    CHECK(c.read32(HCASIM_BAR_REGS, HCASIM_REG_MAGIC) == HCASIM_MAGIC);
}

TEST_CASE("no-reply requests are never answered") {
    DeviceProcess dev;
    RawClient c(dev.socket());
    c.version();
    std::vector<uint8_t> p;
    append(p, RegionAccess{HCASIM_CHANNEL_REG(0, HCASIM_CH_MSIX_VECTOR), HCASIM_BAR_REGS, 4});
    append(p, uint32_t{3});
    c.send(Command::RegionWrite, p, kFlagNoReply);
    c.send(Command::RegionWrite, std::vector<uint8_t>(3), kFlagNoReply);  // malformed, too
    // The next reply is the read's: nothing was sent for the two above.
    CHECK(c.read32(HCASIM_BAR_REGS, HCASIM_CHANNEL_REG(0, HCASIM_CH_MSIX_VECTOR)) == 3);
}

TEST_CASE("a broken header drops that client; the next one is served") {
    DeviceProcess dev;
    {
        RawClient c(dev.socket());
        c.version();
        Header h{1, 9, 0x7fffffff, 0, 0};
        REQUIRE(::write(c.fd(), &h, sizeof(h)) == sizeof(h));
        char b;
        CHECK(::read(c.fd(), &b, 1) == 0);  // server closed the connection
    }
    {
        RawClient c(dev.socket());
        Header h{1, 1, 64, 0, 0};
        REQUIRE(::write(c.fd(), &h, 8) == 8);  // half a header, then vanish
    }
    RawClient c(dev.socket());
    c.version();
    CHECK(c.read32(HCASIM_BAR_REGS, HCASIM_REG_MAGIC) == HCASIM_MAGIC);
    CHECK(dev.alive());
    CHECK(dev.trace().find("vfu_disconnect reason=\"malformed header\"") != std::string::npos);
}

TEST_CASE("maps without an fd are reached with DMA_READ/DMA_WRITE messages") {
    DeviceProcess dev;
    RawClient c(dev.socket());
    c.version();
    constexpr uint64_t base = 0x100000;
    std::vector<uint8_t> mem(3 * 4096, 0);  // queue, input, output pages
    REQUIRE_FALSE(c.call(Command::DmaMap, bytes(DmaMap{32, 3, 0, base, mem.size()})).is_error());
    REQUIRE(c.write32(kRegionConfig, 4, 0x6) == 0);  // memory + bus master
    REQUIRE(c.write32(HCASIM_BAR_REGS, HCASIM_CHANNEL_REG(0, HCASIM_CH_OWNER), 0x1234) == 0);
    REQUIRE(c.write32(HCASIM_BAR_REGS, HCASIM_CHANNEL_REG(0, HCASIM_CH_CMDQ_ADDR_LO), base) == 0);
    hcasim_cmd_in_hdr q{};
    q.opcode = HCASIM_CMD_QUERY_HCA_CAP;
    std::memcpy(mem.data() + 4096, &q, sizeof(q));
    hcasim_cmdq_entry e{};
    e.type = HCASIM_CMD_TYPE_PCIE;
    e.in_ptr = base + 4096;
    e.in_len = sizeof(q);
    e.out_ptr = base + 8192;
    e.out_len = sizeof(hcasim_query_hca_cap_out);
    e.own = HCASIM_CMD_OWN_HW;
    std::memcpy(mem.data(), &e, sizeof(e));
    std::vector<uint8_t> db;
    append(db, RegionAccess{HCASIM_CHANNEL_REG(0, HCASIM_CH_DOORBELL), HCASIM_BAR_REGS, 4});
    append(db, uint32_t{0});
    const uint16_t id = c.send(Command::RegionWrite, db);
    int dma_reads = 0, dma_writes = 0;
    bool replied = false;
    for (int i = 0; i < 100 && (mem[offsetof(hcasim_cmdq_entry, own)] || !replied); ++i) {
        Message m = c.recv();
        if (m.is_reply()) {
            CHECK(m.hdr.msg_id == id);
            replied = true;
            continue;
        }
        DmaAccess a{};
        REQUIRE(read_at(std::span<const uint8_t>(m.payload), 0, a));
        REQUIRE(a.address >= base);
        REQUIRE(a.address + a.count <= base + mem.size());
        std::vector<uint8_t> out;
        append(out, a);
        if (m.hdr.command == static_cast<uint16_t>(Command::DmaRead)) {
            ++dma_reads;
            out.insert(out.end(), mem.begin() + (a.address - base),
                       mem.begin() + (a.address - base + a.count));
        } else {
            ++dma_writes;
            std::memcpy(mem.data() + (a.address - base), m.payload.data() + sizeof(a), a.count);
        }
        REQUIRE(Endpoint(c.fd()).send({m.hdr.msg_id, m.hdr.command, 0, kFlagTypeReply, 0}, out) == 0);
    }
    CHECK(replied);
    CHECK(dma_reads >= 2);
    CHECK(dma_writes >= 2);
    CHECK(mem[offsetof(hcasim_cmdq_entry, own)] == 0);
    hcasim_query_hca_cap_out caps{};
    std::memcpy(&caps, mem.data() + 8192, sizeof(caps));
    CHECK(caps.hdr.status == HCASIM_STATUS_OK);
    CHECK(caps.memic_bar_size == 256 * 1024);
}

TEST_CASE("a command queue outside guest memory faults without harm") {
    DeviceProcess dev;
    RawClient c(dev.socket());
    c.version();
    REQUIRE(c.write32(kRegionConfig, 4, 0x6) == 0);
    REQUIRE(c.write32(HCASIM_BAR_REGS, HCASIM_CHANNEL_REG(1, HCASIM_CH_OWNER), 0x77) == 0);
    REQUIRE(c.write32(HCASIM_BAR_REGS, HCASIM_CHANNEL_REG(1, HCASIM_CH_CMDQ_ADDR_LO), 0xdead0000) == 0);
    REQUIRE(c.write32(HCASIM_BAR_REGS, HCASIM_CHANNEL_REG(1, HCASIM_CH_DOORBELL), 5) == 0);
    CHECK(c.read32(HCASIM_BAR_REGS, HCASIM_CHANNEL_REG(1, HCASIM_CH_COMPLETED)) == 0);
    CHECK(dev.trace().find("cmdq_dma_fault ch=1") != std::string::npos);
    CHECK(c.read32(HCASIM_BAR_REGS, HCASIM_REG_MAGIC) == HCASIM_MAGIC);
}
