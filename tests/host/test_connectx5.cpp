// Host-direct tests of the ConnectX-5 model (hcasim-device --model
// connectx5): a real device process, a vfio-user client (the verbs library's
// own), guest memory offered with DMA_MAP. What mlx5_core sees first: the
// PCI identity, the init segment in big-endian, and commands run through
// the command queue in guest memory and completed by the owner bit.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "tests/host/device_process.h"
#include "tests/unit/prm_driver.h"
#include "verbs/vfio_user_client.h"

using namespace hcasim;
using namespace hcasim::test;
namespace ifc = prm::ifc;

namespace {

constexpr std::uint64_t kQueue = GuestRam::kRam;  // one 4 KiB page
constexpr std::uint64_t kInBlocks = GuestRam::kRam + 0x10000;
constexpr std::uint64_t kOutBlocks = GuestRam::kRam + 0x40000;
constexpr std::uint32_t kConfigRegion = 7, kBar0 = 0;

std::uint32_t be32(const std::uint8_t* p) { return std::uint32_t{p[0]} << 24 | p[1] << 16 | p[2] << 8 | p[3]; }

std::uint32_t read_reg(verbs::VfioUserClient& c, std::uint32_t off)
{
    std::uint8_t b[4] = {};
    REQUIRE(c.region_read(kBar0, off, b, 4) == 0);
    return be32(b);
}

void write_reg(verbs::VfioUserClient& c, std::uint32_t off, std::uint32_t v)
{
    const std::uint8_t b[4] = {std::uint8_t(v >> 24), std::uint8_t(v >> 16), std::uint8_t(v >> 8), std::uint8_t(v)};
    REQUIRE(c.region_write(kBar0, off, b, 4) == 0);
}

// Waits until the device hands entry `slot` back (owner bit 0): the
// device's own state, bounded so a broken device fails the test.
bool handed_back(GuestRam& mem, std::uint32_t slot)
{
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    volatile std::uint8_t* own = mem.at(kQueue + slot * 64 + 63, 1).data();
    while (*own & 1) {
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

int run_device(const std::string& args)
{
    const char* bin = std::getenv("HCASIM_DEVICE_BIN");
    REQUIRE(bin);
    int st = std::system((std::string(bin) + " --model connectx5 " + args + " 2>/dev/null").c_str());
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

}  // namespace

TEST_CASE("connectx5 model: a vfio-user client sees 15b3:1017 and runs commands through BAR0 and guest memory")
{
    DeviceProcess dev({"--model", "connectx5"}, false);
    verbs::VfioUserClient client;
    REQUIRE(client.connect(dev.socket(), [](std::uint64_t, void*, std::size_t, bool) { return EFAULT; }) == 0);

    std::uint8_t cfg[16] = {};
    REQUIRE(client.region_read(kConfigRegion, 0, cfg, sizeof(cfg)) == 0);
    CHECK((cfg[0] | cfg[1] << 8) == 0x15b3);
    CHECK((cfg[2] | cfg[3] << 8) == 0x1017);
    CHECK((cfg[9] | cfg[10] << 8 | cfg[11] << 16) == 0x020000);  // Ethernet controller

    CHECK((read_reg(client, 0x4) >> 16) == 5);  // CMD_IF_REV
    CHECK((read_reg(client, 0x1fc) >> 31) == 0);

    GuestRam mem;
    vfio_user::DmaMap map{sizeof(vfio_user::DmaMap), vfio_user::kDmaFlagRead | vfio_user::kDmaFlagWrite, 0,
                          GuestRam::kRam, GuestRam::kRamSize};
    std::vector<std::uint8_t> payload(sizeof(map));
    std::memcpy(payload.data(), &map, sizeof(map));
    vfio_user::Message reply;
    const int fds[1] = {mem.fd.get()};
    REQUIRE(client.request(vfio_user::Command::DmaMap, payload, reply, fds) == 0);

    write_reg(client, 0x10, static_cast<std::uint32_t>(kQueue >> 32));
    write_reg(client, 0x14, static_cast<std::uint32_t>(kQueue));
    auto enable = prm_command<ifc::enable_hca_in, ifc::enable_hca_out>(prm::op::ENABLE_HCA);
    auto issi = prm_command<ifc::query_issi_in, ifc::query_issi_out>(prm::op::QUERY_ISSI);
    post_prm(mem, kQueue, kInBlocks, kOutBlocks, enable);
    post_prm(mem, kQueue + 64, kInBlocks + 0x2000, kOutBlocks + 0x2000, issi);
    post_prm(mem, kQueue + 128, kInBlocks + 0x4000, kOutBlocks + 0x4000, {std::vector<std::uint8_t>(8), 16});
    mem.at(kQueue + 128, 1)[0] = 1;  // slot 2: a bad command type
    write_reg(client, 0x18, 0x7);
    REQUIRE(handed_back(mem, 0));
    REQUIRE(handed_back(mem, 1));
    REQUIRE(handed_back(mem, 2));
    CHECK(mem.at(kQueue + 63, 1)[0] == 0);
    CHECK(prm_status(prm_output(mem, kQueue, kOutBlocks, enable.outlen)) == 0);
    auto out = prm_output(mem, kQueue + 64, kOutBlocks + 0x2000, issi.outlen);
    CHECK(prm_status(out) == 0);
    CHECK(prm::view<ifc::query_issi_out>(out).value()[ifc::query_issi_out::supported_issi_dw0] == 0x3);
    CHECK(mem.at(kQueue + 128 + 63, 1)[0] == (0x10 << 1));

    CHECK(dev.stop() == 0);
    // The trace names each command by its PRM name, and the refused entry.
    std::string trace = dev.trace();
    CHECK(trace.find("ENABLE_HCA") != std::string::npos);
    CHECK(trace.find("QUERY_ISSI") != std::string::npos);
    CHECK(trace.find("prm_cmd_delivery") != std::string::npos);
}

TEST_CASE("connectx5 model: what it does not have yet is refused at start, as is a --fail-cmd it cannot name")
{
    CHECK(run_device("--socket /nonexistent/x.sock --inspect /nonexistent/i.sock") == 2);
    CHECK(run_device("--socket /nonexistent/x.sock --port vde:///nonexistent") == 2);
    CHECK(run_device("--socket /nonexistent/x.sock --fail-cmd ALLOC_MEMIC_NOT") == 2);
    CHECK(run_device("--socket /nonexistent/x.sock --mtu 4096") == 2);      // the guest's driver sets it
    CHECK(run_device("--socket /nonexistent/x.sock --ipv4 10.0.0.1") == 2);  // likewise
    CHECK(run_device("--socket /nonexistent/x.sock --mac 02:zz:00:00:00:01") == 2);
    CHECK(run_device("--socket /nonexistent/x.sock --model nonsense") != 0);
}
