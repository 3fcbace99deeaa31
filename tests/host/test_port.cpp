// Host-direct: the device and its port as verbs report them (rdma-core
// ibv_query_device(3), ibv_query_port(3), ibv_query_port_speed(3),
// ibv_query_gid(3), ibv_query_gid_ex(3), ibv_query_pkey(3)): RoCE port 1
// ACTIVE with an Ethernet link layer, the link-local RoCE v1 GID and the
// IPv4-mapped RoCE v2 GID, the data-path capabilities, and the node GUID
// from the firmware.
#include "tests/host/verbs_fixture.h"

#include <arpa/inet.h>

#include <cstring>
#include <string>

using hcasim::test::VerbsFixture;

extern "C" int ibv_query_gid_type(ibv_context*, uint8_t, unsigned int, int*);

TEST_CASE("query_port: RoCE, ACTIVE, MTUs, width/speed, GRH required") {
    VerbsFixture f({"--mtu", "2048"});
    ibv_port_attr p{};
    REQUIRE(ibv_query_port(f.ctx, 1, &p) == 0);
    CHECK(p.state == IBV_PORT_ACTIVE);
    CHECK(p.phys_state == 5);
    CHECK(p.link_layer == IBV_LINK_LAYER_ETHERNET);
    CHECK(p.max_mtu == IBV_MTU_4096);
    CHECK(p.active_mtu == IBV_MTU_2048);
    CHECK(p.gid_tbl_len == 2);
    CHECK(p.pkey_tbl_len == 1);
    CHECK(p.max_msg_sz == (1u << 31));
    CHECK(p.active_width == 2);
    CHECK(p.active_speed == 64);
    CHECK((p.port_cap_flags & IBV_PORT_IP_BASED_GIDS) != 0);
    CHECK((p.port_cap_flags & IBV_PORT_CM_SUP) != 0);
    CHECK((p.flags & IBV_QPF_GRH_REQUIRED) != 0);
    CHECK(ibv_query_port(f.ctx, 2, &p) == EINVAL);
    uint64_t speed = 0;
    REQUIRE(ibv_query_port_speed(f.ctx, 1, &speed) == 0);
    CHECK(speed == 1000);  // 100 Gb/s in units of 100 Mb/s
    CHECK(ibv_query_port_speed(f.ctx, 2, &speed) == EINVAL);
}

TEST_CASE("GIDs: link-local RoCE v1 at 0, IPv4-mapped RoCE v2 at 1") {
    VerbsFixture f({"--ipv4", "10.1.2.3", "--mac", "02:11:22:33:44:55"});
    ibv_gid g0{}, g1{};
    REQUIRE(ibv_query_gid(f.ctx, 1, 0, &g0) == 0);
    REQUIRE(ibv_query_gid(f.ctx, 1, 1, &g1) == 0);
    const uint8_t ll[16] = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x00, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55};
    CHECK(std::memcmp(g0.raw, ll, 16) == 0);  // EUI-64 of the MAC, U/L bit flipped
    const uint8_t v4[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3};
    CHECK(std::memcmp(g1.raw, v4, 16) == 0);
    errno = 0;
    CHECK(ibv_query_gid(f.ctx, 1, 2, &g0) == -1);
    CHECK(errno == EINVAL);
    int type = -1;
    REQUIRE(ibv_query_gid_type(f.ctx, 1, 0, &type) == 0);
    CHECK(type == 0);  // sysfs: IB / RoCE v1
    REQUIRE(ibv_query_gid_type(f.ctx, 1, 1, &type) == 0);
    CHECK(type == 1);  // RoCE v2
    ibv_gid_entry e{};
    REQUIRE(ibv_query_gid_ex(f.ctx, 1, 1, &e, 0) == 0);
    CHECK(e.gid_type == IBV_GID_TYPE_ROCE_V2);
    CHECK(e.gid_index == 1);
    CHECK(e.port_num == 1);
    CHECK(std::memcmp(e.gid.raw, v4, 16) == 0);
    CHECK(ibv_query_gid_ex(f.ctx, 1, 2, &e, 0) == EINVAL);
    ibv_gid_entry table[4]{};
    REQUIRE(ibv_query_gid_table(f.ctx, table, 4, 0) == 2);
    CHECK(table[0].gid_type == IBV_GID_TYPE_ROCE_V1);
    CHECK(table[1].gid_type == IBV_GID_TYPE_ROCE_V2);
    CHECK(ibv_query_gid_table(f.ctx, table, 1, 0) == -EINVAL);
    __be16 pkey = 0;
    REQUIRE(ibv_query_pkey(f.ctx, 1, 0, &pkey) == 0);
    CHECK(pkey == htons(0xffff));
    CHECK(ibv_get_pkey_index(f.ctx, 1, htons(0xffff)) == 0);
}

TEST_CASE("query_device: data-path capabilities, node GUID from the firmware") {
    VerbsFixture f({"--mac", "02:11:22:33:44:55"});
    ibv_device_attr a{};
    REQUIRE(ibv_query_device(f.ctx, &a) == 0);
    CHECK(a.max_qp > 0);
    CHECK(a.max_qp_wr >= 1024);
    CHECK(a.max_sge >= 16);
    CHECK(a.max_sge_rd == a.max_sge);
    CHECK(a.max_cq > 0);
    CHECK(a.max_cqe > 0);
    CHECK(((a.max_cqe + 1) & a.max_cqe) == 0);  // a power of two minus one
    CHECK(a.max_srq > 0);
    CHECK(((a.max_srq_wr + 1) & a.max_srq_wr) == 0);
    CHECK(a.max_srq_sge > 0);
    CHECK(a.max_qp_rd_atom >= 16);  // rdma-core's RCQPTest asks 12
    CHECK(a.max_qp_init_rd_atom >= 16);
    CHECK(a.max_res_rd_atom == a.max_qp_rd_atom * a.max_qp);
    CHECK(a.atomic_cap == IBV_ATOMIC_HCA);
    CHECK(a.max_ah > 0);
    CHECK((a.device_cap_flags & IBV_DEVICE_RC_RNR_NAK_GEN) != 0);
    CHECK((a.device_cap_flags & IBV_DEVICE_MEM_WINDOW) == 0);
    CHECK(a.node_guid != 0);
    // EUI-64 of the MAC: 02:11:22 ff:fe 33:44:55 with the U/L bit flipped.
    CHECK(a.node_guid == ibv_get_device_guid(f.list[0]));
    const uint8_t* g = reinterpret_cast<const uint8_t*>(&a.node_guid);
    const uint8_t eui[8] = {0x00, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55};
    CHECK(std::memcmp(g, eui, 8) == 0);
    ibv_device_attr_ex x{};
    REQUIRE(ibv_query_device_ex(f.ctx, nullptr, &x) == 0);
    CHECK(x.orig_attr.max_qp_wr == a.max_qp_wr);
    CHECK(x.phys_port_cnt_ex == 1);
}

TEST_CASE("device-free helpers: rdma-core's strings and rate conversions") {
    CHECK(std::string(ibv_wc_status_str(IBV_WC_REM_ACCESS_ERR)) == "remote access error");
    CHECK(std::string(ibv_wc_status_str(IBV_WC_WR_FLUSH_ERR)) == "Work Request Flushed Error");
    CHECK(std::string(ibv_wc_status_str(static_cast<ibv_wc_status>(200))) == "unknown");
    CHECK(std::string(ibv_port_state_str(IBV_PORT_ACTIVE)) == "active");
    CHECK(std::string(ibv_node_type_str(IBV_NODE_CA)) == "InfiniBand channel adapter");
    CHECK(std::string(ibv_event_type_str(IBV_EVENT_SRQ_LIMIT_REACHED)) == "SRQ limit reached");
    CHECK(ibv_rate_to_mult(IBV_RATE_40_GBPS) == 16);
    CHECK(ibv_rate_to_mult(IBV_RATE_100_GBPS) == -1);
    CHECK(mult_to_ibv_rate(48) == IBV_RATE_120_GBPS);
    CHECK(mult_to_ibv_rate(7) == IBV_RATE_MAX);
    CHECK(ibv_rate_to_mbps(IBV_RATE_100_GBPS) == 103125);
    CHECK(mbps_to_ibv_rate(53125) == IBV_RATE_50_GBPS);
    CHECK(mbps_to_ibv_rate(1) == IBV_RATE_MAX);
}
