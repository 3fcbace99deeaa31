/* See prm_ifc_values.c: a few offsets of mlx5_ifc.h, as the C compiler lays
 * the header out. */
#pragma once
#include <stddef.h>
#ifdef __cplusplus
extern "C" {
#endif
struct prm_ifc_value {
    const char *name; /* "layout.field" */
    size_t bit_off;   /* offsetof in the u8-per-bit struct: bits */
    size_t bits;      /* sizeof: bits */
};
const struct prm_ifc_value *prm_ifc_values(size_t *n);
/* sizeof in bits of: 0 cmd_hca_cap, 1 create_cq_in, 2 fte_match_param. */
size_t prm_ifc_layout_bits(int which);
#ifdef __cplusplus
}
#endif
