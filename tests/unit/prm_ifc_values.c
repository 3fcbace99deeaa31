/* Values straight from Linux's mlx5_ifc.h (and device.h), computed the way the kernel's
 * MLX5_SET/MLX5_GET macros do (offsetof of a u8-per-bit struct), in a C
 * translation unit of its own: tests/unit/test_prm.cpp checks the generated
 * layouts (prm/prm_layouts.h) against them. */
#include "prm/linux_mlx5_c.h"

#include "prm_ifc_values.h"

#define BIT_OFF(typ, fld) offsetof(struct mlx5_ifc_##typ##_bits, fld)
#define BIT_SZ(typ, fld) sizeof(((struct mlx5_ifc_##typ##_bits *)0)->fld)
#define V(typ, fld) { #typ "." #fld, BIT_OFF(typ, fld), BIT_SZ(typ, fld) }
/* device.h's structs count bytes. */
#define D(typ, fld) { "dev::" #typ "." #fld, 8 * offsetof(struct mlx5_##typ, fld), \
                      8 * sizeof(((struct mlx5_##typ *)0)->fld) }

static const struct prm_ifc_value values[] = {
    V(query_hca_cap_in, opcode),
    V(query_hca_cap_in, op_mod),
    V(query_hca_cap_out, status),
    V(query_hca_cap_out, syndrome),
    V(cmd_hca_cap, log_max_qp),
    V(cmd_hca_cap, port_type),
    V(cmd_hca_cap, nic_flow_table),
    V(cmd_hca_cap, log_max_cq_sz),
    V(cqc, log_cq_size),
    V(cqc, c_eqn_or_apu_element),
    V(eqc, log_eq_size),
    V(create_cq_in, cq_context),
    V(sqc, cqn),
    V(nic_vport_context, permanent_address),
    V(fte_match_set_lyr_2_4, dmac_47_16),
    V(fte_match_set_lyr_2_4, ethertype),
    V(create_flow_table_in, flow_table_context),
    V(flow_table_context, level),
    V(general_obj_in_cmd_hdr, op_param.create.log_obj_range),
    { "rqtc.rq_num", BIT_OFF(rqtc, rq_num), 0 },  /* a flexible array */
    D(init_seg, cmdq_addr_l_sz),
    D(init_seg, cmd_dbell),
    D(init_seg, initializing),
    D(init_seg, health_counter),
    D(cmd_layout, in_ptr),
    D(cmd_layout, out),
    D(cmd_layout, status_own),
    D(cmd_prot_block, next),
    D(cmd_prot_block, block_num),
    D(eqe, owner),
    D(cqe64, op_own),
    D(cqe64, wqe_counter),
    D(err_cqe, syndrome),
    { "manage_pages_in.pas[1]", BIT_OFF(manage_pages_in, pas[1]), BIT_SZ(manage_pages_in, pas[1]) },
};

const struct prm_ifc_value *prm_ifc_values(size_t *n)
{
    *n = sizeof(values) / sizeof(values[0]);
    return values;
}

size_t prm_ifc_layout_bits(int which)
{
    switch (which) {
    case 0: return sizeof(struct mlx5_ifc_cmd_hca_cap_bits);
    case 1: return sizeof(struct mlx5_ifc_create_cq_in_bits);
    case 2: return sizeof(struct mlx5_ifc_fte_match_param_bits);
    default: return 0;
    }
}
