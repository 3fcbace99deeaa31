// A test driver for the ConnectX-5 model's command interface: guest memory
// (a memfd, mapped into a DmaSpace as vfio-user DMA_MAP would), and command
// entries and mailbox chains laid out in it as Linux's mlx5_core cmd.c
// does (mlx5_alloc_cmd_msg, mlx5_copy_to_msg / mlx5_copy_from_msg).
#pragma once

#include <doctest/doctest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <span>
#include <vector>

#include "device/dma_space.h"
#include "device/platform.h"
#include "firmware/prm_cmdq.h"
#include "prm/prm.h"
#include "prm/prm_layouts.h"

namespace hcasim::test {

using PrmEntry = prm::dev::cmd_layout;
using PrmBlock = prm::dev::cmd_prot_block;

// 1 MiB of guest memory at guest address kRam: a memfd the test maps, and
// offers to the device (a DmaSpace map here, vfio-user DMA_MAP in host
// tests).
struct GuestRam {
    static constexpr std::uint64_t kRam = 0x100000, kRamSize = 1 << 20;
    std::uint8_t* ram = nullptr;
    UniqueFd fd;

    GuestRam()
    {
        fd = UniqueFd(::memfd_create("ram", 0));
        REQUIRE(fd);
        REQUIRE(::ftruncate(fd.get(), kRamSize) == 0);
        void* p = ::mmap(nullptr, kRamSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
        REQUIRE(p != MAP_FAILED);
        ram = static_cast<std::uint8_t*>(p);
    }
    // ... and mapped into `dma` at kRam.
    explicit GuestRam(device::DmaSpace& dma) : GuestRam()
    {
        REQUIRE(dma.map(kRam, kRamSize, device::DmaSpace::kRead | device::DmaSpace::kWrite,
                        UniqueFd(::dup(fd.get())), 0) == 0);
    }
    ~GuestRam() { ::munmap(ram, kRamSize); }
    GuestRam(const GuestRam&) = delete;
    GuestRam& operator=(const GuestRam&) = delete;

    std::span<std::uint8_t> at(std::uint64_t addr, std::size_t len) { return {ram + (addr - kRam), len}; }
};

// The device's platform in a unit test: a DmaSpace, the MSI-X vectors
// raised (in order), and a clock the test sets.
struct TestPlatform final : device::Platform {
    device::DmaSpace& space;
    std::vector<unsigned> irqs;
    std::uint64_t clock_ns = 0;

    explicit TestPlatform(device::DmaSpace& d) : space(d) {}
    device::DmaSpace& dma() override { return space; }
    void raise_msix(unsigned vector) override { irqs.push_back(vector); }
    std::uint64_t now_ns() const override { return clock_ns; }
};

// A command as the driver posts it: its whole input, and the output length.
struct PrmCmd {
    std::vector<std::uint8_t> in;
    std::size_t outlen;
};

// A command input of layout In with opcode/op_mod set, and room for Out.
template <class In, class Out>
PrmCmd prm_command(std::uint32_t opcode, std::uint32_t op_mod = 0, std::size_t extra_in = 0)
{
    PrmCmd c{std::vector<std::uint8_t>(In::kBits / 8 + extra_in), Out::kBits / 8};
    auto v = prm::mut_view<In>(c.in).value();
    v.set(In::opcode, opcode);
    v.set(In::op_mod, op_mod);
    return c;
}

inline std::uint8_t prm_status(const std::vector<std::uint8_t>& out)
{
    return static_cast<std::uint8_t>(prm::read_bits(out, 0, 8));
}
inline std::uint32_t prm_syndrome(const std::vector<std::uint8_t>& out)
{
    return static_cast<std::uint32_t>(prm::read_bits(out, 32, 32));
}

// Lays a chain carrying `len - 16` bytes (if any) at `base`, blocks 1 KiB
// apart, numbered and linked; data from `data` (or zeros).
inline void lay_prm_chain(GuestRam& ram, std::uint64_t base, const std::uint8_t* data, std::size_t len)
{
    std::size_t n = len > 16 ? (len - 16 + 511) / 512 : 0;
    for (std::size_t i = 0; i < n; ++i) {
        auto b = prm::mut_view<PrmBlock>(ram.at(base + i * 1024, 576)).value();
        std::fill(b.raw().begin(), b.raw().begin() + 576, 0);
        if (data) {
            std::size_t off = 16 + i * 512, chunk = std::min<std::size_t>(512, len - off);
            std::memcpy(b.bytes(PrmBlock::data).data(), data + off, chunk);
        }
        b.set(PrmBlock::block_num, i);
        b.set(PrmBlock::next, i + 1 < n ? base + (i + 1) * 1024 : 0);
    }
}

// Lays the entry at `entry` (owned by hardware) and both chains.
inline void post_prm(GuestRam& ram, std::uint64_t entry, std::uint64_t in_blocks, std::uint64_t out_blocks,
                     const PrmCmd& c)
{
    auto e = prm::mut_view<PrmEntry>(ram.at(entry, 64)).value();
    std::fill(e.raw().begin(), e.raw().begin() + 64, 0);
    e.set(PrmEntry::type, firmware::kPrmCmdTypePci);
    e.set(PrmEntry::inlen, c.in.size());
    e.set(PrmEntry::outlen, c.outlen);
    std::memcpy(e.bytes(PrmEntry::in).data(), c.in.data(), std::min<std::size_t>(16, c.in.size()));
    e.set(PrmEntry::in_ptr, c.in.size() > 16 ? in_blocks : 0);
    e.set(PrmEntry::out_ptr, c.outlen > 16 ? out_blocks : 0);
    e.set(PrmEntry::status_own, 1);  // owned by hardware
    lay_prm_chain(ram, in_blocks, c.in.data(), c.in.size());
    lay_prm_chain(ram, out_blocks, nullptr, c.outlen);
}

// The output as the driver reads it back.
inline std::vector<std::uint8_t> prm_output(GuestRam& ram, std::uint64_t entry, std::uint64_t out_blocks,
                                            std::size_t outlen)
{
    std::vector<std::uint8_t> out(outlen);
    auto e = prm::view<PrmEntry>(ram.at(entry, 64)).value();
    std::memcpy(out.data(), e.bytes(PrmEntry::out).data(), std::min<std::size_t>(16, outlen));
    for (std::size_t off = 16, i = 0; off < outlen; off += 512, ++i)
        std::memcpy(out.data() + off, ram.at(out_blocks + i * 1024, 512).data(), std::min<std::size_t>(512, outlen - off));
    return out;
}

}  // namespace hcasim::test
