// Host-direct: hcasim-device's vfio-user server against a raw client.
// Protocol answers, reply sizes QEMU accepts, malformed messages, clients
// that vanish, and DMA carried by DMA_READ/DMA_WRITE messages when a map
// has no fd.  After every bad input the device must keep serving.  The
// server never blocks its loop: while a message arrives in pieces, or a
// DMA_READ waits for its reply, the device runs commands and answers its
// inspection socket; a client that stalls mid-message or never reads is
// dropped.
#include "abi/hcasim_abi.h"
#include "vfio_user/codec.h"
#include "tests/host/device_process.h"
#include "tests/unit/vfio_user_pieces.h"

#include <doctest/doctest.h>

#include <cerrno>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstring>
#include <span>
#include <string>
#include <thread>
#include <vector>

using namespace hcasim;
using namespace hcasim::vfio_user;
using hcasim::test::DeviceProcess;
using hcasim::test::wire;
using hcasim::test::write_piece;

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

namespace {

// A QUERY_HCA_CAP command for channel 0 in `mem` (queue entry, input and
// output pages), which the device sees at bus address `base`.
void put_query_hca_cap(std::span<uint8_t> mem, uint64_t base) {
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
}

bool command_done(std::span<const uint8_t> mem) {
    return __atomic_load_n(&mem[offsetof(hcasim_cmdq_entry, own)], __ATOMIC_ACQUIRE) == 0;
}

void check_query_hca_cap(std::span<const uint8_t> mem, uint64_t memic_size = 256 * 1024) {
    hcasim_query_hca_cap_out caps{};
    std::memcpy(&caps, mem.data() + 8192, sizeof(caps));
    CHECK(caps.hdr.status == HCASIM_STATUS_OK);
    CHECK(caps.memic_bar_size == memic_size);
}

// Bus master on, channel 0 claimed, its command queue at `base`.
void setup_channel0(RawClient& c, uint64_t base) {
    REQUIRE(c.write32(kRegionConfig, 4, 0x6) == 0);  // memory + bus master
    REQUIRE(c.write32(HCASIM_BAR_REGS, HCASIM_CHANNEL_REG(0, HCASIM_CH_OWNER), 0x1234) == 0);
    REQUIRE(c.write32(HCASIM_BAR_REGS, HCASIM_CHANNEL_REG(0, HCASIM_CH_CMDQ_ADDR_LO), base) == 0);
}

// Answers the device's DMA_READ/DMA_WRITE request `m` from `mem` (at `base`).
void answer_dma(RawClient& c, const Message& m, std::span<uint8_t> mem, uint64_t base) {
    DmaAccess a{};
    REQUIRE(read_at(std::span<const uint8_t>(m.payload), 0, a));
    REQUIRE(a.address >= base);
    REQUIRE(a.address + a.count <= base + mem.size());
    std::vector<uint8_t> out;
    append(out, a);
    if (m.hdr.command == static_cast<uint16_t>(Command::DmaRead)) {
        out.insert(out.end(), mem.begin() + (a.address - base),
                   mem.begin() + (a.address - base + a.count));
    } else {
        REQUIRE(m.hdr.command == static_cast<uint16_t>(Command::DmaWrite));
        std::memcpy(mem.data() + (a.address - base), m.payload.data() + sizeof(a), a.count);
    }
    REQUIRE(Endpoint(c.fd()).send({m.hdr.msg_id, m.hdr.command, 0, kFlagTypeReply, 0}, out) == 0);
}

// Offers `mem` at `base` without an fd, puts a QUERY_HCA_CAP there and
// rings channel 0's doorbell; the device's DMA to `mem` then comes as
// messages.  Returns the doorbell write's msg_id (its reply comes too).
uint16_t ring_query_without_fd(RawClient& c, std::span<uint8_t> mem, uint64_t base) {
    REQUIRE_FALSE(c.call(Command::DmaMap, bytes(DmaMap{32, 3, 0, base, mem.size()})).is_error());
    setup_channel0(c, base);
    put_query_hca_cap(mem, base);
    std::vector<uint8_t> db;
    append(db, RegionAccess{HCASIM_CHANNEL_REG(0, HCASIM_CH_DOORBELL), HCASIM_BAR_REGS, 4});
    append(db, uint32_t{0});
    return c.send(Command::RegionWrite, db);
}

}  // namespace

TEST_CASE("maps without an fd are reached with DMA_READ/DMA_WRITE messages") {
    DeviceProcess dev;
    RawClient c(dev.socket());
    c.version();
    constexpr uint64_t base = 0x100000;
    std::vector<uint8_t> mem(3 * 4096, 0);  // queue, input, output pages
    const uint16_t id = ring_query_without_fd(c, mem, base);
    int dma_reads = 0, dma_writes = 0;
    bool replied = false;
    for (int i = 0; i < 100 && (!command_done(mem) || !replied); ++i) {
        Message m = c.recv();
        if (m.is_reply()) {
            CHECK(m.hdr.msg_id == id);
            replied = true;
            continue;
        }
        ++(m.hdr.command == static_cast<uint16_t>(Command::DmaRead) ? dma_reads : dma_writes);
        answer_dma(c, m, mem, base);
    }
    CHECK(replied);
    CHECK(dma_reads >= 2);
    CHECK(dma_writes >= 2);
    CHECK(command_done(mem));
    check_query_hca_cap(mem);
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

// ---- A server that never blocks its loop -------------------------------

namespace {

// One request line to the inspection socket; the reply, or "" if none
// came within timeout_ms (a generous bound: the device answers at once
// unless its loop is blocked).
std::string inspect_within(const std::string& path, const std::string& request, int timeout_ms) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::strncpy(sa.sun_path, path.c_str(), sizeof(sa.sun_path) - 1);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) return "";
    const std::string line = request + "\n";
    if (::write(fd.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size())) return "";
    std::string reply;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now()).count();
        pollfd pfd{fd.get(), POLLIN, 0};
        if (left <= 0 || ::poll(&pfd, 1, static_cast<int>(left)) <= 0) return "";
        char ch;
        if (::read(fd.get(), &ch, 1) != 1) return "";
        if (ch == '\n') return reply;
        reply += ch;
    }
}

constexpr int kGenerousMs = 30000;

bool inspection_answers(const DeviceProcess& dev) {
    const std::string r = inspect_within(dev.inspect_socket(), R"({"cmd":"tph"})", kGenerousMs);
    return !r.empty() && r.find("\"error\"") == std::string::npos;
}

// Waits (bounded) for `done`, checking every millisecond.
template <class Pred>
bool wait_until(Pred done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kGenerousMs);
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

// Shared memory the device reaches without messages (a memfd it maps).
struct SharedMem {
    explicit SharedMem(size_t n) : fd(::memfd_create("hcasim-test", MFD_CLOEXEC)), len(n) {
        REQUIRE(::ftruncate(fd.get(), static_cast<off_t>(len)) == 0);
        void* p = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
        REQUIRE(p != MAP_FAILED);
        mem = {static_cast<uint8_t*>(p), len};
    }
    ~SharedMem() { ::munmap(mem.data(), len); }
    UniqueFd fd;
    size_t len;
    std::span<uint8_t> mem;
};

// Channel 0's UAR page, mapped from BAR2's fd (the driver's doorbells).
struct ChannelUar {
    explicit ChannelUar(RawClient& c) {
        const auto info = [&](uint32_t argsz) {
            return c.call(Command::DeviceGetRegionInfo,
                          bytes(RegionInfo{argsz, 0, HCASIM_BAR_MEMIC, 0, 0, 0}));
        };
        RegionInfo ri{};
        read_at(std::span<const uint8_t>(info(sizeof(RegionInfo)).payload), 0, ri);
        Message full = info(ri.argsz);
        REQUIRE(full.fds.size() == 1);
        read_at(std::span<const uint8_t>(full.payload), 0, ri);
        SparseArea uar_area{};  // the last sparse area
        REQUIRE(read_at(std::span<const uint8_t>(full.payload),
                        ri.cap_offset + sizeof(SparseMmapCap) + sizeof(SparseArea), uar_area));
        len = uar_area.size;
        void* p = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, full.fds[0].get(),
                         static_cast<off_t>(ri.offset + uar_area.offset));
        REQUIRE(p != MAP_FAILED);
        base = static_cast<uint8_t*>(p);
        page = reinterpret_cast<hcasim_uar*>(base + HCASIM_CHANNEL_UAR(0) * HCASIM_UAR_PAGE_SIZE);
    }
    ~ChannelUar() { ::munmap(base, len); }
    uint8_t* base = nullptr;
    size_t len = 0;
    hcasim_uar* page = nullptr;
};

}  // namespace

TEST_CASE("a message in pieces: meanwhile the device runs commands and answers inspection") {
    DeviceProcess dev({"--memic-size", "65536"});
    RawClient c(dev.socket());
    c.version();
    constexpr uint64_t base = 0x100000;
    SharedMem shm(3 * 4096);
    const int fds[1] = {shm.fd.get()};
    REQUIRE_FALSE(c.call(Command::DmaMap, bytes(DmaMap{32, 3, 0, base, shm.len}),
                         {fds[0]}).is_error());
    setup_channel0(c, base);
    ChannelUar uar(c);
    const auto w = wire(0x77, Command::RegionRead, bytes(RegionAccess{HCASIM_REG_MAGIC, HCASIM_BAR_REGS, 4}));
    const std::span<const uint8_t> all(w);
    write_piece(c.fd(), all.subspan(0, 7));  // half a header
    CHECK(inspection_answers(dev));
    // A command through the UAR's cmd_pi: no message, the device polls it.
    put_query_hca_cap(shm.mem, base);
    __atomic_store_n(&uar.page->cmd_pi, 1u, __ATOMIC_RELEASE);
    REQUIRE(wait_until([&] { return command_done(shm.mem); }));
    check_query_hca_cap(shm.mem, 65536);
    write_piece(c.fd(), all.subspan(7, 12));  // the header and part of the payload
    CHECK(inspection_answers(dev));
    write_piece(c.fd(), all.subspan(19));
    Message m = c.recv();
    CHECK(m.hdr.msg_id == 0x77);
    REQUIRE_FALSE(m.is_error());
    uint32_t v = 0;
    read_at(std::span<const uint8_t>(m.payload), sizeof(RegionAccess), v);
    CHECK(v == HCASIM_MAGIC);
    CHECK(dev.trace().find("vfu_disconnect") == std::string::npos);
}

TEST_CASE("a DMA_MAP in pieces keeps the fd that came with its first bytes") {
    DeviceProcess dev;
    RawClient c(dev.socket());
    c.version();
    SharedMem shm(4096);
    const auto w = wire(0x55, Command::DmaMap, bytes(DmaMap{32, 3, 0, 0x200000, 4096}));
    write_piece(c.fd(), std::span<const uint8_t>(w).subspan(0, 10), shm.fd.get());
    CHECK(inspection_answers(dev));
    write_piece(c.fd(), std::span<const uint8_t>(w).subspan(10));
    Message m = c.recv();
    CHECK(m.hdr.msg_id == 0x55);
    CHECK_FALSE(m.is_error());
    CHECK(dev.trace().find("vfu_dma_map addr=0x200000 size=0x1000 flags=3 fd=yes") != std::string::npos);
}

TEST_CASE("while a DMA_READ waits for its reply, the device keeps serving") {
    DeviceProcess dev;
    RawClient c(dev.socket());
    c.version();
    constexpr uint64_t base = 0x100000;
    std::vector<uint8_t> mem(3 * 4096, 0);
    ring_query_without_fd(c, mem, base);
    bool held = false;
    for (int i = 0; i < 100 && !command_done(mem); ++i) {
        Message m = c.recv();
        if (m.is_reply()) continue;  // the doorbell write's
        if (!held) {
            // The device waits for this reply: its loop still turns.
            held = true;
            CHECK(inspection_answers(dev));
            CHECK(c.read32(HCASIM_BAR_REGS, HCASIM_REG_MAGIC) == HCASIM_MAGIC);
        }
        answer_dma(c, m, mem, base);
    }
    CHECK(held);
    REQUIRE(command_done(mem));
    check_query_hca_cap(mem);
    CHECK(dev.trace().find("vfu_dma_error") == std::string::npos);
}

TEST_CASE("a client that leaves while a DMA_READ waits: the DMA fails, the next client is served") {
    DeviceProcess dev;
    {
        RawClient c(dev.socket());
        c.version();
        std::vector<uint8_t> mem(3 * 4096, 0);
        ring_query_without_fd(c, mem, 0x100000);
        Message m = c.recv();
        if (m.is_reply()) m = c.recv();  // the doorbell write's reply
        CHECK(m.hdr.command == static_cast<uint16_t>(Command::DmaRead));
    }  // gone without an answer
    RawClient c(dev.socket());
    c.version();
    CHECK(c.read32(HCASIM_BAR_REGS, HCASIM_REG_MAGIC) == HCASIM_MAGIC);
    const std::string trace = dev.trace();
    CHECK(trace.find("vfu_dma_error cmd=DMA_READ") != std::string::npos);
    CHECK(trace.find("reason=\"client left\"") != std::string::npos);
    CHECK(dev.alive());
}

TEST_CASE("a client that stops mid-message is dropped after --client-stall-ms") {
    DeviceProcess dev({"--client-stall-ms", "200"});
    {
        RawClient c(dev.socket());
        c.version();
        const auto w = wire(9, Command::DeviceGetInfo, bytes(DeviceInfo{16, 0, 0, 0}));
        write_piece(c.fd(), std::span<const uint8_t>(w).subspan(0, 20));
        char b;
        CHECK(::read(c.fd(), &b, 1) == 0);  // the device closed the connection
    }
    CHECK(dev.trace().find("vfu_disconnect reason=\"stalled mid-message\"") != std::string::npos);
    RawClient c(dev.socket());
    c.version();
    CHECK(c.read32(HCASIM_BAR_REGS, HCASIM_REG_MAGIC) == HCASIM_MAGIC);
}

TEST_CASE("a client that never reads its replies is dropped; the device goes on") {
    DeviceProcess dev;
    {
        RawClient c(dev.socket());
        c.version();
        const auto p = bytes(RegionAccess{HCASIM_REG_MAGIC, HCASIM_BAR_REGS, 4});
        Endpoint ep(c.fd());
        int sent = 0;
        while (sent < 100000 &&
               ep.send({static_cast<uint16_t>(sent), static_cast<uint16_t>(Command::RegionRead), 0,
                        kFlagTypeCommand, 0}, p) == 0)
            ++sent;
        CHECK(sent < 100000);  // the device hung up
        char buf[4096];
        while (::read(c.fd(), buf, sizeof(buf)) > 0) {
        }
    }
    CHECK(dev.trace().find("vfu_disconnect reason=\"client does not read its socket\"") !=
          std::string::npos);
    RawClient c(dev.socket());
    c.version();
    CHECK(c.read32(HCASIM_BAR_REGS, HCASIM_REG_MAGIC) == HCASIM_MAGIC);
    CHECK(dev.alive());
}
