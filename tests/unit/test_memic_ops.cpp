// MEMIC operation windows (MODIFY_MEMIC + trapped BAR2 accesses): atomic
// increment adds what is written, test-and-set returns the old value and
// sets 1; windows of blocks without the op enabled do nothing.
#include "pcie/hca.h"

#include <doctest/doctest.h>

#include <cstring>
#include <vector>

using namespace hcasim;

namespace {

struct HcaFixture {
    Tracer trace;
    pcie::Hca hca{{65536, false}, trace};

    template <class In, class Out>
    uint8_t run(const In& in, Out& out, uint32_t ch = 0) {
        std::vector<uint8_t> ib(sizeof(In)), ob(sizeof(Out));
        std::memcpy(ib.data(), &in, sizeof(In));
        auto st = hca.firmware().execute(ch, ib, ob);
        std::memcpy(&out, ob.data(), sizeof(Out));
        return st.status;
    }
    uint64_t alloc(uint64_t len) {
        hcasim_alloc_memic_in in{};
        in.hdr.opcode = HCASIM_CMD_ALLOC_MEMIC;
        in.length = len;
        hcasim_alloc_memic_out out{};
        REQUIRE(run(in, out) == HCASIM_STATUS_OK);
        return out.memic_addr;
    }
    uint8_t modify(uint64_t addr, uint32_t op, uint64_t& op_addr, uint32_t ch = 0) {
        hcasim_modify_memic_in in{};
        in.hdr.opcode = HCASIM_CMD_MODIFY_MEMIC;
        in.memic_addr = addr;
        in.op = op;
        hcasim_modify_memic_out out{};
        const uint8_t st = run(in, out, ch);
        op_addr = out.op_addr;
        return st;
    }
    template <class T>
    T read(uint64_t off) {
        T v{};
        std::vector<uint8_t> b(sizeof(T));
        REQUIRE(hca.memic_op_access(off, b, false) == 0);
        std::memcpy(&v, b.data(), sizeof(T));
        return v;
    }
    template <class T>
    void write(uint64_t off, T v) {
        std::vector<uint8_t> b(sizeof(T));
        std::memcpy(b.data(), &v, sizeof(T));
        REQUIRE(hca.memic_op_access(off, b, true) == 0);
    }
};

}  // namespace

TEST_CASE("op windows sit after the pool, the UAR area after them; BAR2 is a power of two") {
    HcaFixture f;
    CHECK(f.hca.memic_mmap_size() == 65536);
    CHECK(f.hca.uar_offset() == 3 * 65536);  // pool + two op windows
    CHECK(f.hca.uar_size() == (HCASIM_NUM_UARS + 1) * 4096);
    // 192 KiB + 513 pages = 2244 KiB -> 4 MiB
    CHECK(f.hca.memic_bar_size() == 4 * 1024 * 1024);
}

TEST_CASE("atomic increment: each write adds") {
    HcaFixture f;
    const uint64_t a = f.alloc(128);
    uint64_t op = 0;
    REQUIRE(f.modify(a, HCASIM_MEMIC_OP_ATOMIC_INC, op) == HCASIM_STATUS_OK);
    CHECK(op == 65536 + a);
    f.write<uint64_t>(op + 8, 5);
    f.write<uint64_t>(op + 8, 37);
    uint64_t v = 0;
    std::memcpy(&v, f.hca.memic() + a + 8, 8);
    CHECK(v == 42);
    f.write<uint32_t>(op + 16, 0xffffffff);
    f.write<uint32_t>(op + 16, 2);  // 32-bit wrap
    uint32_t w = 0;
    std::memcpy(&w, f.hca.memic() + a + 16, 4);
    CHECK(w == 1);
}

TEST_CASE("test-and-set: a read returns the old value and sets 1") {
    HcaFixture f;
    const uint64_t a = f.alloc(64);
    uint64_t op = 0;
    REQUIRE(f.modify(a, HCASIM_MEMIC_OP_TEST_AND_SET, op) == HCASIM_STATUS_OK);
    CHECK(op == 2 * 65536 + a);
    CHECK(f.read<uint32_t>(op) == 0);  // was free: we got it
    CHECK(f.read<uint32_t>(op) == 1);  // taken
    uint32_t v = 0;
    std::memcpy(&v, f.hca.memic() + a, 4);
    CHECK(v == 1);
}

TEST_CASE("windows act only where enabled, on naturally aligned 4/8-byte accesses") {
    HcaFixture f;
    const uint64_t a = f.alloc(64), b = f.alloc(64);
    uint64_t op = 0;
    REQUIRE(f.modify(a, HCASIM_MEMIC_OP_ATOMIC_INC, op) == HCASIM_STATUS_OK);
    f.write<uint64_t>(65536 + b, 9);  // block b never enabled the op
    uint64_t v = 1;
    std::memcpy(&v, f.hca.memic() + b, 8);
    CHECK(v == 0);
    std::vector<uint8_t> two(2), odd(4);
    CHECK(f.hca.memic_op_access(op, two, true) == EINVAL);
    CHECK(f.hca.memic_op_access(op + 2, odd, true) == EINVAL);
    CHECK(f.modify(a, 5, op) == HCASIM_STATUS_BAD_PARAM);         // unknown op
    CHECK(f.modify(a + 64 * 10, 0, op) == HCASIM_STATUS_BAD_PARAM);  // not a block
    CHECK(f.modify(a, 0, op, 3) == HCASIM_STATUS_BAD_PARAM);        // another channel's
}
