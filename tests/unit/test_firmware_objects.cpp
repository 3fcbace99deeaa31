// Firmware handlers for mkeys, DMA handles and SW ICM with bad input:
// wrong handle, wrong size, wrong state.  Each gives its status and
// syndrome and leaves nothing behind; the MR engine enforces access,
// bounds and TPH tagging.
#include "device/dma_space.h"
#include "firmware/firmware.h"

#include <doctest/doctest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

using namespace hcasim;
using namespace hcasim::firmware;

namespace {

struct Fw {
    Tracer trace;
    std::vector<uint8_t> memic = std::vector<uint8_t>(64 * 1024);
    HcaCaps caps = [] {
        HcaCaps c;
        c.memic_size = 64 * 1024;
        c.privileged = true;
        return c;
    }();
    Firmware fw{caps, memic.data(), trace};
    device::DmaSpace dma;
    device::TphConfig tph{true, 2, std::vector<uint16_t>(64, 0)};
    uint8_t* host = nullptr;  // 4 pages of "guest memory" at bus 0x100000

    Fw() {
        UniqueFd fd(::memfd_create("g", 0));
        REQUIRE(::ftruncate(fd.get(), 4 * 4096) == 0);
        host = static_cast<uint8_t*>(::mmap(nullptr, 4 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0));
        REQUIRE(dma.map(0x100000, 4 * 4096, 3, std::move(fd), 0) == 0);
        fw.state().dma = &dma;
        fw.state().tph = [this] { return tph; };
    }
    ~Fw() { ::munmap(host, 4 * 4096); }

    template <class In, class Out>
    CmdStatus run(const In& in, Out& out, uint32_t ch = 0, std::vector<uint64_t> extra = {}) {
        std::vector<uint8_t> ib(sizeof(In) + 8 * extra.size()), ob(sizeof(Out));
        std::memcpy(ib.data(), &in, sizeof(In));
        if (!extra.empty()) std::memcpy(ib.data() + sizeof(In), extra.data(), 8 * extra.size());
        CmdStatus st = fw.execute(ch, ib, ob);
        std::memcpy(&out, ob.data(), sizeof(Out));
        return st;
    }
    uint32_t pd(uint32_t ch = 0) {
        hcasim_alloc_pd_in in{};
        in.hdr.opcode = HCASIM_CMD_ALLOC_PD;
        hcasim_alloc_pd_out out{};
        REQUIRE(run(in, out, ch).status == HCASIM_STATUS_OK);
        return out.pdn;
    }
    // An MTT region over host page 1..2 (bus 0x101000, 0x102000), with the
    // page list in host page 0.
    hcasim_create_mkey_in mtt_in(uint32_t pdn, uint32_t access, uint64_t len = 8192) {
        const uint64_t pages[2] = {0x101000, 0x102000};
        std::memcpy(host, pages, sizeof(pages));
        hcasim_create_mkey_in in{};
        in.hdr.opcode = HCASIM_CMD_CREATE_MKEY;
        in.pdn = pdn;
        in.access = access;
        in.iova = 0x7000;
        in.length = len;
        in.mode = HCASIM_MKEY_MODE_MTT;
        in.num_mtt = static_cast<uint32_t>((len + 4095) / 4096);
        in.num_mtt_pages = 1;
        return in;
    }
    CmdStatus mkey(const hcasim_create_mkey_in& in, uint32_t& key, uint32_t ch = 0,
                   std::vector<uint64_t> mtt_pages = {0x100000}) {
        hcasim_create_mkey_out out{};
        CmdStatus st = run(in, out, ch, mtt_pages);
        key = out.mkey;
        return st;
    }
};

constexpr uint32_t LW = HCASIM_ACCESS_LOCAL_WRITE, RW = HCASIM_ACCESS_REMOTE_WRITE;

}  // namespace

TEST_CASE("CREATE_MKEY: wrong PD, access, length, MTT; nothing created") {
    Fw f;
    const uint32_t pdn = f.pd();
    uint32_t key = 0;
    CHECK(f.mkey(f.mtt_in(999, LW), key).syndrome == HCASIM_SYND_PD_BAD_HANDLE);
    CHECK(f.mkey(f.mtt_in(pdn, LW), key, /*ch=*/4).syndrome == HCASIM_SYND_PD_BAD_HANDLE);
    CHECK(f.mkey(f.mtt_in(pdn, RW), key).syndrome == HCASIM_SYND_MKEY_BAD_ACCESS);
    CHECK(f.mkey(f.mtt_in(pdn, 0x400), key).syndrome == HCASIM_SYND_MKEY_BAD_ACCESS);
    auto zero = f.mtt_in(pdn, LW);
    zero.length = 0;
    CHECK(f.mkey(zero, key).syndrome == HCASIM_SYND_MKEY_BAD_LENGTH);
    auto wrong_count = f.mtt_in(pdn, LW);
    wrong_count.num_mtt = 5;
    CHECK(f.mkey(wrong_count, key).syndrome == HCASIM_SYND_MKEY_BAD_MTT);
    CHECK(f.mkey(f.mtt_in(pdn, LW), key, 0, {}).status == HCASIM_STATUS_BAD_INPUT_LEN);
    CHECK(f.mkey(f.mtt_in(pdn, LW), key, 0, {0xdead0000}).syndrome == HCASIM_SYND_MKEY_MTT_DMA_FAULT);
    const uint64_t unaligned[2] = {0x101001, 0x102000};
    std::memcpy(f.host, unaligned, sizeof(unaligned));
    auto in = f.mtt_in(pdn, LW);
    std::memcpy(f.host, unaligned, sizeof(unaligned));  // mtt_in rewrote it
    CHECK(f.mkey(in, key).syndrome == HCASIM_SYND_MKEY_BAD_MTT);
    auto bad_mode = f.mtt_in(pdn, LW);
    bad_mode.mode = 9;
    CHECK(f.mkey(bad_mode, key).syndrome == HCASIM_SYND_MKEY_BAD_MODE);
    CHECK(f.fw.state().mkeys.size() == 0);
}

TEST_CASE("mkeys: MR engine writes through the MTT; access and bounds enforced") {
    Fw f;
    const uint32_t pdn = f.pd();
    uint32_t key = 0;
    REQUIRE(f.mkey(f.mtt_in(pdn, LW | RW), key).status == HCASIM_STATUS_OK);
    auto eng = f.fw.state().mr_engine();
    const char data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    CHECK(eng.write(key, 0x7000 + 4092, data, 8, true) == device::MrError::None);
    CHECK(f.host[0x1000 + 4092] == 1);  // page 1 ...
    CHECK(f.host[0x2000 + 3] == 8);     // ... continues in page 2
    CHECK(eng.write(key, 0x7000 + 8190, data, 4, true) == device::MrError::Bounds);
    CHECK(eng.write(key, 0x6fff, data, 1, true) == device::MrError::Bounds);
    CHECK(eng.write(key + 1, 0x7000, data, 1, true) == device::MrError::BadKey);
    uint32_t ro = 0;
    REQUIRE(f.mkey(f.mtt_in(pdn, HCASIM_ACCESS_REMOTE_READ), ro).status == HCASIM_STATUS_OK);
    CHECK(eng.write(ro, 0x7000, data, 1, true) == device::MrError::Access);
    CHECK(eng.write(ro, 0x7000, data, 1, false) == device::MrError::Access);
    // A page list pointing outside guest memory faults the DMA, not the device.
    const uint64_t bad[2] = {0x900000, 0x901000};
    std::memcpy(f.host, bad, sizeof(bad));
    hcasim_create_mkey_in in = f.mtt_in(pdn, LW);
    std::memcpy(f.host, bad, sizeof(bad));
    uint32_t wild = 0;
    REQUIRE(f.mkey(in, wild).status == HCASIM_STATUS_OK);
    CHECK(eng.write(wild, 0x7000, data, 8, false) == device::MrError::Dma);
}

TEST_CASE("DESTROY_MKEY: wrong handle, another channel's; PD busy while MRs live") {
    Fw f;
    const uint32_t pdn = f.pd();
    uint32_t key = 0;
    REQUIRE(f.mkey(f.mtt_in(pdn, LW), key).status == HCASIM_STATUS_OK);
    hcasim_dealloc_pd_in dp{};
    dp.hdr.opcode = HCASIM_CMD_DEALLOC_PD;
    dp.pdn = pdn;
    hcasim_dealloc_pd_out dpo{};
    CHECK(f.run(dp, dpo).syndrome == HCASIM_SYND_PD_BUSY);
    hcasim_destroy_mkey_in d{};
    d.hdr.opcode = HCASIM_CMD_DESTROY_MKEY;
    d.mkey = key ^ 0xff;
    hcasim_destroy_mkey_out o{};
    CHECK(f.run(d, o).syndrome == HCASIM_SYND_MKEY_BAD_HANDLE);
    d.mkey = key;
    CHECK(f.run(d, o, 2).syndrome == HCASIM_SYND_MKEY_BAD_HANDLE);
    CHECK(f.run(d, o).status == HCASIM_STATUS_OK);
    CHECK(f.run(d, o).status == HCASIM_STATUS_BAD_RESOURCE);  // double destroy
    CHECK(f.run(dp, dpo).status == HCASIM_STATUS_OK);
}

TEST_CASE("MEMIC mkeys: inside one block of the channel; the block is busy") {
    Fw f;
    const uint32_t pdn = f.pd();
    hcasim_alloc_memic_in am{};
    am.hdr.opcode = HCASIM_CMD_ALLOC_MEMIC;
    am.length = 1024;
    hcasim_alloc_memic_out amo{};
    REQUIRE(f.run(am, amo).status == HCASIM_STATUS_OK);
    hcasim_create_mkey_in in{};
    in.hdr.opcode = HCASIM_CMD_CREATE_MKEY;
    in.pdn = pdn;
    in.access = LW | HCASIM_ACCESS_ZERO_BASED;
    in.mode = HCASIM_MKEY_MODE_MEMIC;
    in.start = amo.memic_addr + 512;
    in.length = 1024;  // runs past the block
    uint32_t key = 0;
    CHECK(f.mkey(in, key, 0, {}).syndrome == HCASIM_SYND_MKEY_BAD_DM_RANGE);
    in.length = 512;
    in.access = LW;  // not zero-based
    CHECK(f.mkey(in, key, 0, {}).syndrome == HCASIM_SYND_MKEY_BAD_ACCESS);
    in.access = LW | HCASIM_ACCESS_ZERO_BASED;
    REQUIRE(f.mkey(in, key, 0, {}).status == HCASIM_STATUS_OK);
    hcasim_dealloc_memic_in dm{};
    dm.hdr.opcode = HCASIM_CMD_DEALLOC_MEMIC;
    dm.memic_addr = amo.memic_addr;
    dm.length = 1024;
    hcasim_dealloc_memic_out dmo{};
    CHECK(f.run(dm, dmo).syndrome == HCASIM_SYND_MEMIC_BUSY);
    const char x[4] = {9, 9, 9, 9};
    CHECK(f.fw.state().mr_engine().write(key, 4, x, 4, false) == device::MrError::None);
    CHECK(f.memic[amo.memic_addr + 516] == 9);
}

TEST_CASE("DMA handles: PH, memory type, ST index sharing and exhaustion, busy") {
    Fw f;
    hcasim_alloc_dmah_in in{};
    in.hdr.opcode = HCASIM_CMD_ALLOC_DMAH;
    in.ph = 4;
    hcasim_alloc_dmah_out out{};
    CHECK(f.run(in, out).syndrome == HCASIM_SYND_DMAH_BAD_PH);
    in.ph = 1;
    in.flags = HCASIM_DMAH_FLAG_ST;
    in.mem_type = 7;
    CHECK(f.run(in, out).syndrome == HCASIM_SYND_DMAH_BAD_MEM_TYPE);
    in.mem_type = 0;
    in.flags = 0x80;
    CHECK(f.run(in, out).syndrome == HCASIM_SYND_RESERVED_NOT_ZERO);
    in.flags = HCASIM_DMAH_FLAG_ST;
    std::vector<uint32_t> handles;
    for (uint32_t cpu = 0; cpu < 64; ++cpu) {  // 64 distinct tags fill the ST table
        in.cpu_id = cpu;
        REQUIRE(f.run(in, out).status == HCASIM_STATUS_OK);
        CHECK(out.st_value == 0x10 + cpu);
        handles.push_back(out.dmah);
    }
    in.cpu_id = 64;
    CHECK(f.run(in, out).syndrome == HCASIM_SYND_DMAH_NO_ST_INDEX);
    in.cpu_id = 3;  // same tag as an existing handle: shares its index
    REQUIRE(f.run(in, out).status == HCASIM_STATUS_OK);
    CHECK(out.st_index == 3);
    // Tagging: an mkey with the handle carries PH + the programmed ST.
    const uint32_t pdn = f.pd();
    f.tph.st_table[3] = 0x1234;
    auto mk = f.mtt_in(pdn, LW);
    mk.dmah = out.dmah;
    uint32_t key = 0;
    REQUIRE(f.mkey(mk, key).status == HCASIM_STATUS_OK);
    device::TphTag tag;
    const char b = 1;
    CHECK(f.fw.state().mr_engine().write(key, 0x7000, &b, 1, false, &tag) == device::MrError::None);
    CHECK(tag.present);
    CHECK(tag.ph == 1);
    CHECK(tag.st == 0x1234);
    f.tph.enabled = false;  // TPH off in config space: no hint
    CHECK(f.fw.state().mr_engine().write(key, 0x7000, &b, 1, false, &tag) == device::MrError::None);
    CHECK_FALSE(tag.present);
    hcasim_dealloc_dmah_in d{};
    d.hdr.opcode = HCASIM_CMD_DEALLOC_DMAH;
    d.dmah = out.dmah;
    hcasim_dealloc_dmah_out o{};
    CHECK(f.run(d, o).syndrome == HCASIM_SYND_DMAH_BUSY);
    CHECK(f.run(d, o, 5).syndrome == HCASIM_SYND_DMAH_BAD_HANDLE);
    d.dmah = 99999;
    CHECK(f.run(d, o).syndrome == HCASIM_SYND_DMAH_BAD_HANDLE);
    auto mk2 = f.mtt_in(pdn, LW);
    mk2.dmah = 99999;
    CHECK(f.mkey(mk2, key).syndrome == HCASIM_SYND_DMAH_BAD_HANDLE);
}

TEST_CASE("SW ICM: privilege, type, length, exhaustion, owner; reclaim") {
    Fw f;
    hcasim_alloc_sw_icm_in in{};
    in.hdr.opcode = HCASIM_CMD_ALLOC_SW_ICM;
    in.type = 9;
    in.length = 4096;
    hcasim_alloc_sw_icm_out out{};
    CHECK(f.run(in, out).syndrome == HCASIM_SYND_SW_ICM_BAD_TYPE);
    in.type = HCASIM_SW_ICM_ENCAP;
    in.length = 4096 * 3;  // not a power of two
    CHECK(f.run(in, out).syndrome == HCASIM_SYND_SW_ICM_BAD_LENGTH);
    in.length = 2048;  // below the granularity
    CHECK(f.run(in, out).syndrome == HCASIM_SYND_SW_ICM_BAD_LENGTH);
    in.length = 256 * 1024;
    REQUIRE(f.run(in, out, 1).status == HCASIM_STATUS_OK);
    in.length = 4096;
    CHECK(f.run(in, out).syndrome == HCASIM_SYND_SW_ICM_EXHAUSTED);
    f.fw.release_channel(1);  // the owner left
    REQUIRE(f.run(in, out).status == HCASIM_STATUS_OK);
    hcasim_dealloc_sw_icm_in d{};
    d.hdr.opcode = HCASIM_CMD_DEALLOC_SW_ICM;
    d.type = HCASIM_SW_ICM_ENCAP;
    d.icm_addr = out.icm_addr;
    d.length = 4096;
    hcasim_dealloc_sw_icm_out o{};
    CHECK(f.run(d, o, 2).syndrome == HCASIM_SYND_SW_ICM_BAD_ADDR);
    CHECK(f.run(d, o).status == HCASIM_STATUS_OK);
    Fw unpriv;
    unpriv.fw.state().caps.privileged = false;
    CHECK(unpriv.run(in, out).syndrome == HCASIM_SYND_NOT_PRIVILEGED);
}
