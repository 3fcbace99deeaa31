// QUERY_PORT (0x750): port 1's state, MTUs, speed and GID table (RoCE:
// link-local GID from the MAC, IPv4-mapped GID from the address).
#include "firmware/handlers.h"

namespace hcasim::firmware {

CmdStatus cmd_query_port(FwState& fw, CmdContext& ctx) {
    const auto in = ctx.input<hcasim_query_port_in>();
    ctx.note("port={}", in.port);
    if (in.port != 1) return fail(HCASIM_STATUS_BAD_PARAM, HCASIM_SYND_PORT_BAD_NUM);
    const auto& eng = *fw.engine;
    const auto& pc = eng.port();
    hcasim_query_port_out out{};
    const bool up = eng.port_active();
    out.state = up ? 4 /* IBV_PORT_ACTIVE */ : 1 /* IBV_PORT_DOWN */;
    out.phys_state = up ? 5 /* LinkUp */ : 3 /* Disabled */;
    out.max_mtu = 5;  // IBV_MTU_4096
    out.active_mtu = device::mtu_enum(pc.mtu);
    out.active_width = 2;   // 4x
    out.active_speed = 64;  // EDR (25 Gb/s per lane): 100 Gb/s
    out.link_layer = 2;     // IBV_LINK_LAYER_ETHERNET
    out.num_gids = HCASIM_GID_TABLE_LEN;
    out.max_msg_sz = fw.caps.limits.max_msg;
    std::memcpy(out.mac, pc.mac.data(), 6);
    out.ipv4 = __builtin_bswap32(pc.ipv4);
    out.port_speed_mbps = 100000;
    for (uint32_t i = 0; i < HCASIM_GID_TABLE_LEN; ++i) {
        std::memcpy(out.gids[i].gid, eng.gid(i).data(), 16);
        out.gids[i].type = i == 0 ? HCASIM_GID_TYPE_ROCE_V1 : HCASIM_GID_TYPE_ROCE_V2;
    }
    ctx.output(out);
    ctx.note("state={} mtu={}", out.state, pc.mtu);
    return kOk;
}

}  // namespace hcasim::firmware
