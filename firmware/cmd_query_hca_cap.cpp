// QUERY_HCA_CAP (0x100): general and device-memory capabilities.
#include "firmware/handlers.h"

namespace hcasim::firmware {

CmdStatus cmd_query_hca_cap(FwState& fw, CmdContext& ctx) {
    const auto in = ctx.input<hcasim_cmd_in_hdr>();
    if (in.op_mod != 0) return fail(HCASIM_STATUS_BAD_PARAM, HCASIM_SYND_BAD_OP_MOD);
    hcasim_query_hca_cap_out out{};
    out.fw_rev = (HCASIM_FW_MAJOR << 16) | HCASIM_FW_MINOR;
    out.fw_rev_sub = HCASIM_FW_SUBMINOR;
    out.node_guid = fw.caps.node_guid;
    out.sys_image_guid = fw.caps.node_guid;
    out.vendor_part_id = HCASIM_PCI_DEVICE_ID;
    out.hw_ver = HCASIM_PCI_REVISION;
    out.max_pd = fw.caps.max_pd;
    out.max_mr = fw.caps.max_mkeys;
    out.max_mr_size = uint64_t{1} << 40;  // 1 TiB: HCASIM_MAX_MTT_PAGES bounds one MTT MR
    out.memic_bar_size = fw.caps.memic_size;
    out.memic_bar_offset = fw.caps.memic_bar_offset;
    out.log_memic_alloc_unit = fw.caps.log_memic_alloc_unit;
    out.log_max_memic_addr_alignment = fw.caps.log_max_memic_align;
    out.caps = fw.caps.caps;
    out.phys_port_cnt = 1;
    out.max_mkeys = fw.caps.max_mkeys;
    out.tph_st_entries = fw.caps.tph_st_entries;
    out.log_page_size = 12;
    out.privileged = fw.caps.privileged ? 1 : 0;
    for (uint32_t t = HCASIM_SW_ICM_STEERING; t <= HCASIM_SW_ICM_ENCAP; ++t) {
        out.sw_icm[t].base = HcaCaps::sw_icm_base(t);
        out.sw_icm[t].size = fw.caps.sw_icm_size[t];
        out.sw_icm[t].log_granularity = fw.caps.log_sw_icm_granularity;
    }
    out.memic_op_offset = fw.caps.memic_op_offset;
    out.memic_op_stride = fw.caps.memic_op_stride;
    const auto& lim = fw.caps.limits;
    out.uar_bar_offset = fw.caps.uar_bar_offset;
    out.num_uars = HCASIM_NUM_UARS;
    out.max_qp = lim.max_qp;
    out.max_qp_wr = lim.max_qp_wr;
    out.max_sge = lim.max_sge;
    out.max_cq = lim.max_cq;
    out.max_cqe = lim.max_cqe;
    out.max_srq = lim.max_srq;
    out.max_srq_wr = lim.max_srq_wr;
    out.max_srq_sge = lim.max_sge;
    out.max_inline_data = lim.max_inline;
    out.max_qp_rd_atom = lim.max_rd_atom;
    out.max_qp_init_rd_atom = lim.max_rd_atom;
    out.max_eq = lim.max_eq;
    out.max_msg_sz = lim.max_msg;
    out.local_ca_ack_delay = 16;
    ctx.output(out);
    ctx.note("memic_size={} max_pd={}", out.memic_bar_size, out.max_pd);
    return kOk;
}

}  // namespace hcasim::firmware
