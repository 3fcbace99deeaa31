// Unit tests of the ConnectX-5 model's HCA core (pcie/cx5_hca.h): BAR0's
// init segment read and written as Linux's mlx5_core does at probe
// (main.c mlx5_function_enable, cmd.c mlx5_cmd_init, health.c), then
// commands rung through the doorbell and completed by polling the owner bit.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "common/trace.h"
#include "pcie/cx5_hca.h"
#include "prm_driver.h"

using namespace hcasim;
using namespace hcasim::test;
namespace ifc = prm::ifc;

namespace {

constexpr std::uint64_t kQueue = GuestRam::kRam + 0x3000;  // one 4 KiB page
constexpr std::uint64_t kInBlocks = GuestRam::kRam + 0x10000;
constexpr std::uint64_t kOutBlocks = GuestRam::kRam + 0x40000;

struct Rig {
    std::uint64_t clock_ns = 5'000'000'000;
    Tracer trace;
    pcie::Cx5Hca hca{trace, [this] { return clock_ns; }};
    GuestRam mem{hca.dma()};
    int posts = 0;

    Rig() { hca.set_post([this](std::function<void()>) { ++posts; }); }

    std::uint64_t entry(std::uint32_t slot) { return kQueue + slot * 64; }
    // Each slot gets its own mailbox area (0x2000 apart).
    void post(std::uint32_t slot, const PrmCmd& c)
    {
        post_prm(mem, entry(slot), kInBlocks + slot * 0x2000, kOutBlocks + slot * 0x2000, c);
    }
    std::vector<std::uint8_t> output(std::uint32_t slot, std::size_t outlen)
    {
        return prm_output(mem, entry(slot), kOutBlocks + slot * 0x2000, outlen);
    }
    std::uint8_t status_own(std::uint32_t slot) { return mem.at(entry(slot), 64)[63]; }
};

}  // namespace

TEST_CASE("cx5 hca: the init segment as mlx5_core reads it at probe")
{
    Rig rig;
    auto& h = rig.hca;
    std::uint32_t fw_rev = h.read_reg(0x0), cmdif = h.read_reg(0x4);
    CHECK((fw_rev & 0xffff) == pcie::Cx5Hca::kFwMajor);
    CHECK((fw_rev >> 16) == pcie::Cx5Hca::kFwMinor);
    CHECK((cmdif >> 16) == 5);  // CMD_IF_REV, or mlx5_cmd_enable fails
    CHECK((h.read_reg(0x1fc) >> 31) == 0);  // not initialising: wait_fw_init returns at once
    std::uint32_t l = h.read_reg(0x14) & 0xff;
    std::uint32_t log_sz = l >> 4 & 0xf, log_stride = l & 0xf;
    CHECK(log_sz <= 5);                // MLX5_MAX_COMMANDS 32
    CHECK(log_sz + log_stride <= 12);  // the queue is one 4 KiB page
    CHECK((1u << log_stride) >= 64);   // an entry

    // The queue's address: high word, then low word with the page bits.
    h.write_reg(0x10, 0x1);
    h.write_reg(0x14, 0x2345f000 | 0xfff);  // low 12 bits are not address
    CHECK(h.cmdq_addr() == 0x12345f000ull);
    CHECK(h.read_reg(0x10) == 0x1);
    CHECK((h.read_reg(0x14) & ~0xfffu) == 0x2345f000);
    CHECK((h.read_reg(0x14) & 0xff) == l);       // geometry is read-only
    CHECK((h.read_reg(0x14) >> 8 & 0x7) == 0x7);  // nic_interface as written (7: SW reset)
    h.write_reg(0x4, 0);                          // read-only: ignored
    CHECK(h.read_reg(0x4) == cmdif);

    // The health counter moves with the clock (health.c: three unchanged
    // polls and the device is "compromised"), and stands still without it.
    std::uint32_t c0 = h.read_reg(0x1010);
    CHECK(h.read_reg(0x1010) == c0);
    rig.clock_ns += 2'000'000'000;
    CHECK(h.read_reg(0x1010) != c0);
    // No assertion in the health buffer, no syndrome.
    for (std::uint32_t off = 0x200; off < 0x240; off += 4)
        CHECK(h.read_reg(off) == 0);
}

TEST_CASE("cx5 hca: commands rung through the doorbell run in slot order and complete by the owner bit")
{
    Rig rig;
    auto& h = rig.hca;
    h.write_reg(0x10, static_cast<std::uint32_t>(kQueue >> 32));
    h.write_reg(0x14, static_cast<std::uint32_t>(kQueue));
    auto enable = prm_command<ifc::enable_hca_in, ifc::enable_hca_out>(prm::op::ENABLE_HCA);
    auto issi = prm_command<ifc::query_issi_in, ifc::query_issi_out>(prm::op::QUERY_ISSI);
    rig.post(3, enable);
    rig.post(4, issi);
    rig.post(7, {std::vector<std::uint8_t>(8), 16});
    rig.mem.at(rig.entry(7), 64)[0] = 1;  // a bad entry: type 1
    h.write_reg(0x18, 1u << 4 | 1u << 3);  // one write, two slots: QUERY_ISSI needs ENABLE_HCA first
    h.write_reg(0x18, 1u << 7);
    CHECK(rig.posts == 1);  // the event loop is asked once
    CHECK(rig.status_own(3) == 1);  // nothing runs inside the MMIO write
    CHECK(h.poll());
    CHECK(!h.poll());
    CHECK(rig.status_own(3) == 0);
    CHECK(rig.status_own(4) == 0);
    CHECK(prm_status(rig.output(3, enable.outlen)) == 0);
    auto out = rig.output(4, issi.outlen);
    CHECK(prm_status(out) == 0);
    CHECK(prm::view<ifc::query_issi_out>(out).value()[ifc::query_issi_out::supported_issi_dw0] == 0x3);
    CHECK(rig.status_own(7) == (0x10 << 1));  // bad command type, handed back

    // Reset forgets the queue and the HCA's state.
    h.reset();
    CHECK(h.cmdq_addr() == 0);
    CHECK(h.firmware().state().hca == firmware::PrmHcaState::disabled);
}
