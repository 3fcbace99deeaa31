// Unit tests of the generated PRM layouts (prm/prm_layouts.h) and of
// prm/prm.h's access: offsets against Linux's mlx5_ifc.h itself (a C
// translation unit of their own, prm_ifc_values.c), the kernel's MLX5_SET
// arithmetic, every field of every layout round-tripped, and view bounds.
#include <doctest/doctest.h>

#include <bit>
#include <map>
#include <string>
#include <vector>

#include "prm/prm.h"
#include "prm/prm_layouts.h"
#include "prm_ifc_values.h"

using namespace hcasim::prm;

namespace {

// The generated offset and size of each member that prm_ifc_values.c names.
std::map<std::string, std::pair<std::uint32_t, std::uint32_t>> generated()
{
    auto f = [](auto field) { return std::pair<std::uint32_t, std::uint32_t>{field.bit_off, field.bits}; };
    return {
        {"query_hca_cap_in.opcode", f(ifc::query_hca_cap_in::opcode)},
        {"query_hca_cap_in.op_mod", f(ifc::query_hca_cap_in::op_mod)},
        {"query_hca_cap_out.status", f(ifc::query_hca_cap_out::status)},
        {"query_hca_cap_out.syndrome", f(ifc::query_hca_cap_out::syndrome)},
        {"cmd_hca_cap.log_max_qp", f(ifc::cmd_hca_cap::log_max_qp)},
        {"cmd_hca_cap.port_type", f(ifc::cmd_hca_cap::port_type)},
        {"cmd_hca_cap.nic_flow_table", f(ifc::cmd_hca_cap::nic_flow_table)},
        {"cmd_hca_cap.log_max_cq_sz", f(ifc::cmd_hca_cap::log_max_cq_sz)},
        {"cqc.log_cq_size", f(ifc::cqc::log_cq_size)},
        {"cqc.c_eqn_or_apu_element", f(ifc::cqc::c_eqn_or_apu_element)},
        {"eqc.log_eq_size", f(ifc::eqc::log_eq_size)},
        {"create_cq_in.cq_context", {ifc::create_cq_in::cq_context.bit_off, ifc::cqc::kBits}},
        {"sqc.cqn", f(ifc::sqc::cqn)},
        {"nic_vport_context.permanent_address",
         {ifc::nic_vport_context::permanent_address.bit_off, ifc::mac_address_layout::kBits}},
        {"fte_match_set_lyr_2_4.dmac_47_16", f(ifc::fte_match_set_lyr_2_4::dmac_47_16)},
        {"fte_match_set_lyr_2_4.ethertype", f(ifc::fte_match_set_lyr_2_4::ethertype)},
        {"create_flow_table_in.flow_table_context",
         {ifc::create_flow_table_in::flow_table_context.bit_off, ifc::flow_table_context::kBits}},
        {"flow_table_context.level", f(ifc::flow_table_context::level)},
        {"general_obj_in_cmd_hdr.op_param.create.log_obj_range",
         {ifc::general_obj_in_cmd_hdr::op_param.bit_off + ifc::general_obj_create_param::log_obj_range.bit_off,
          ifc::general_obj_create_param::log_obj_range.bits}},
        {"rqtc.rq_num", {ifc::rqtc::rq_num.bit_off, 0}},
        {"dev::init_seg.cmdq_addr_l_sz", f(dev::init_seg::cmdq_addr_l_sz)},
        {"dev::init_seg.cmd_dbell", f(dev::init_seg::cmd_dbell)},
        {"dev::init_seg.initializing", f(dev::init_seg::initializing)},
        {"dev::init_seg.health_counter", f(dev::init_seg::health_counter)},
        {"dev::cmd_layout.in_ptr", f(dev::cmd_layout::in_ptr)},
        {"dev::cmd_layout.out", {dev::cmd_layout::out.bit_off, dev::cmd_layout::out.elem_bits * 4}},
        {"dev::cmd_layout.status_own", f(dev::cmd_layout::status_own)},
        {"dev::cmd_prot_block.next", f(dev::cmd_prot_block::next)},
        {"dev::cmd_prot_block.block_num", f(dev::cmd_prot_block::block_num)},
        {"dev::eqe.owner", f(dev::eqe::owner)},
        {"dev::cqe64.op_own", f(dev::cqe64::op_own)},
        {"dev::cqe64.wqe_counter", f(dev::cqe64::wqe_counter)},
        {"dev::err_cqe.syndrome", f(dev::err_cqe::syndrome)},
        {"manage_pages_in.pas[1]",
         {ifc::manage_pages_in::pas.bit_off + ifc::manage_pages_in::pas.elem_bits,
          ifc::manage_pages_in::pas.elem_bits}},
    };
}

// MLX5_SET(typ, p, fld, v) for a field of at most 32 bits, as
// include/linux/mlx5/device.h computes it: the big-endian dword at
// bit_off / 32, the field at 32 - bits - (bit_off & 31) from its bottom.
void kernel_set(std::vector<std::uint8_t>& buf, std::uint32_t bit_off, std::uint32_t bits, std::uint32_t v)
{
    std::size_t dw = bit_off / 32 * 4;
    std::uint32_t word = std::uint32_t(buf[dw]) << 24 | std::uint32_t(buf[dw + 1]) << 16 |
                         std::uint32_t(buf[dw + 2]) << 8 | buf[dw + 3];
    unsigned shift = 32 - bits - (bit_off & 31);
    std::uint32_t mask = bits == 32 ? ~0u : (1u << bits) - 1;
    word = (word & ~(mask << shift)) | ((v & mask) << shift);
    buf[dw] = std::uint8_t(word >> 24);
    buf[dw + 1] = std::uint8_t(word >> 16);
    buf[dw + 2] = std::uint8_t(word >> 8);
    buf[dw + 3] = std::uint8_t(word);
}

std::size_t popcount(const std::vector<std::uint8_t>& buf)
{
    std::size_t n = 0;
    for (auto b : buf)
        n += std::popcount(b);
    return n;
}

}  // namespace

TEST_CASE("prm: the generated layouts have mlx5_ifc.h's and device.h's offsets and sizes, as the C compiler lays the headers out")
{
    auto gen = generated();
    std::size_t n = 0;
    const prm_ifc_value* values = prm_ifc_values(&n);
    REQUIRE(n == gen.size());
    for (std::size_t i = 0; i < n; ++i) {
        std::string name = values[i].name;
        CAPTURE(name);
        REQUIRE(gen.count(values[i].name) == 1);
        CHECK(gen[values[i].name].first == values[i].bit_off);
        if (gen[values[i].name].second)  // a flexible array has no size
            CHECK(gen[values[i].name].second == values[i].bits);
    }
    CHECK(ifc::cmd_hca_cap::kBits == prm_ifc_layout_bits(0));
    CHECK(ifc::create_cq_in::kBits == prm_ifc_layout_bits(1));
    CHECK(ifc::fte_match_param::kBits == prm_ifc_layout_bits(2));
    // The PRM's fixed points: every command starts with opcode (16 bits),
    // its op_mod is the second half of dword 1, and every output starts with
    // status (8 bits) and syndrome (dword 1).
    CHECK(ifc::create_eq_in::opcode.bit_off == 0);
    CHECK(ifc::create_eq_in::op_mod.bit_off == 0x30);
    CHECK(ifc::create_eq_out::syndrome.bit_off == 0x20);
    // device.h's init segment as the PRM map reads it: the command doorbell
    // at byte 0x18, the health counter at 0x1010, the segment 0x2010 bytes.
    CHECK(dev::init_seg::cmd_dbell.bit_off == 0x18 * 8);
    CHECK(dev::init_seg::health_counter.bit_off == 0x1010 * 8);
    CHECK(dev::init_seg::kBits == 0x2010 * 8);
    CHECK(dev::cmd_layout::kBits == 64 * 8);
    CHECK(dev::cmd_prot_block::kBits == 576 * 8);
}

TEST_CASE("prm: writing a field is the kernel's MLX5_SET, for every field of at most 32 bits of the general capabilities")
{
    std::vector<std::uint8_t> ours(ifc::cmd_hca_cap::kBits / 8), kernels(ours.size());
    std::size_t n = 0;
    for (const auto& f : ifc::cmd_hca_cap::kFields) {
        if (f.count != 1 || f.bits > 32)
            continue;
        std::uint32_t v = 0x9e3779b9u * (f.bit_off + 1);
        write_bits(ours, f.bit_off, f.bits, v);
        kernel_set(kernels, f.bit_off, f.bits, v);
        ++n;
    }
    CHECK(n > 200);
    CHECK(ours == kernels);
}

TEST_CASE("prm: every field of every layout round-trips, and fields never overlap outside unions")
{
    std::size_t layouts = 0, fields = 0;
    for (const auto& lay : kLayouts) {
        std::string layout_name = lay.name;
        CAPTURE(layout_name);
        std::vector<std::uint8_t> all((lay.bits + 7) / 8 + 64);
        std::size_t set_bits = 0;
        for (std::size_t i = 0; i < lay.field_count; ++i) {
            const FieldInfo& f = lay.fields[i];
            std::string field_name = f.name;
            CAPTURE(field_name);
            std::uint32_t count = f.count ? f.count : 1;  // a flexible array: its first element
            for (std::uint32_t e = 0; e < count; ++e) {
                std::uint64_t off = f.bit_off + std::uint64_t(e) * f.bits;
                if (f.bits > 64) {  // a byte string or a wide bit mask: its place only
                    CHECK(off + f.bits <= lay.bits);
                    continue;
                }
                REQUIRE(off + f.bits <= all.size() * 8);
                std::vector<std::uint8_t> one(all.size());
                std::uint64_t ones = f.bits == 64 ? ~0ull : (1ull << f.bits) - 1;
                write_bits(one, off, f.bits, ones);
                CHECK(popcount(one) == f.bits);  // exactly its own bits
                CHECK(read_bits(one, off, f.bits) == ones);
                std::uint64_t pattern = 0xa5c3f00f96e1785aull & ones;
                write_bits(one, off, f.bits, pattern);
                CHECK(read_bits(one, off, f.bits) == pattern);
                if (!lay.overlaps && f.count) {
                    REQUIRE(read_bits(all, off, f.bits) == 0);  // no earlier field took these bits
                    write_bits(all, off, f.bits, ones);
                    set_bits += f.bits;
                }
            }
            ++fields;
        }
        if (!lay.overlaps)
            CHECK(popcount(all) == set_bits);
        ++layouts;
    }
    CHECK(layouts > 500);
    CHECK(fields > 3000);
}

TEST_CASE("prm: command names are mlx5_ifc.h's MLX5_CMD_OP_* names; opcodes, statuses, capability types, events and registers are the headers' enums")
{
    CHECK(cmd_name(0x100) == "QUERY_HCA_CAP");
    CHECK(cmd_name(0x301) == "CREATE_EQ");
    CHECK(cmd_name(0x930) == "CREATE_FLOW_TABLE");
    CHECK(cmd_name(0x805) == "ACCESS_REG");
    CHECK(cmd_name(0x7fff).empty());
    CHECK(cmd_opcode("CREATE_SQ") == std::optional<std::uint16_t>(0x904));
    CHECK(cmd_opcode("create_sq") == std::optional<std::uint16_t>(0x904));
    CHECK(!cmd_opcode("CREATE_NOTHING"));
    for (const auto& c : kCmdOpcodes)
        CHECK(cmd_opcode(c.name) == std::optional<std::uint16_t>(c.opcode));
    // The enums as constants, implicit values counted as C counts them.
    CHECK(op::QUERY_HCA_CAP == 0x100);
    CHECK(op::_2ERR_QP == 0x507);
    CHECK(stat::BAD_OP_ERR == 0x2);
    CHECK(stat::BAD_INP_LEN_ERR == 0x50);
    CHECK(cap::ETHERNET_OFFLOADS == 0x1);  // implicit: GENERAL = 0, then +1
    CHECK(cap::FLOW_TABLE == 0x7);
    CHECK(cap::DEV_MEM == 0xf);            // implicit after QOS = 0xc
    CHECK(reg::HOST_ENDIANNESS == 0x7004);
    CHECK(reg::PAOS == 0x5006);
    CHECK(event::PORT_CHANGE == 0x9);
    CHECK(cmd_status_name(0x51) == "BAD_OUTP_LEN_ERR");
    CHECK(cmd_status_name(0xee).empty());
}

TEST_CASE("prm: views hold the whole layout and check flexible arrays against the buffer")
{
    std::vector<std::uint8_t> buf(ifc::manage_pages_in::kBits / 8 + 2 * 8 + 3);
    CHECK(!view<ifc::manage_pages_in>(std::span(buf).first(ifc::manage_pages_in::kBits / 8 - 1)));
    auto in = mut_view<ifc::manage_pages_in>(buf);
    REQUIRE(in);
    in->set(ifc::manage_pages_in::opcode, 0x108);
    in->set(ifc::manage_pages_in::input_num_entries, 2);
    CHECK(in->set(ifc::manage_pages_in::pas, 0, 0x1122334455667000ull));
    CHECK(in->set(ifc::manage_pages_in::pas, 1, 0xabc000ull));
    CHECK(!in->set(ifc::manage_pages_in::pas, 2, 1));  // three bytes short of a third
    CHECK(buf[0] == 0x01);
    CHECK(buf[1] == 0x08);
    auto ro = view<ifc::manage_pages_in>(buf);
    CHECK((*ro)[ifc::manage_pages_in::input_num_entries] == 2);
    CHECK(ro->at(ifc::manage_pages_in::pas, 0) == std::optional<std::uint64_t>(0x1122334455667000ull));
    CHECK(ro->at(ifc::manage_pages_in::pas, 1) == std::optional<std::uint64_t>(0xabc000ull));
    CHECK(!ro->at(ifc::manage_pages_in::pas, 2));

    // A nested layout, by typed member: create_cq_in.cq_context.log_cq_size.
    std::vector<std::uint8_t> cq(ifc::create_cq_in::kBits / 8);
    auto cin = mut_view<ifc::create_cq_in>(cq);
    (*cin)[ifc::create_cq_in::cq_context].set(ifc::cqc::log_cq_size, 10);
    CHECK(read_bits(cq, ifc::create_cq_in::cq_context.bit_off + ifc::cqc::log_cq_size.bit_off,
                    ifc::cqc::log_cq_size.bits) == 10);
    CHECK(view<ifc::create_cq_in>(cq).value()[ifc::create_cq_in::cq_context][ifc::cqc::log_cq_size] == 10);
}
