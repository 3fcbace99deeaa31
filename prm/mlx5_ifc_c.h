/* prm: Linux's include/linux/mlx5/mlx5_ifc.h, compiled as plain C outside the
 * kernel: the kernel types and macros it uses, then the header itself. Only
 * C translation units that need the header's own layout include this (the
 * build's probe, prm/gen_prm.py; tests/unit/prm_ifc_values.c); C++ uses
 * prm/prm_layouts.h. */
#pragma once
#include <stddef.h>
#include <stdint.h>
typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef uint16_t __be16;
typedef uint32_t __be32;
typedef uint64_t __be64;
/* include/uapi/linux/stddef.h: a flexible array allowed inside a union. */
#define DECLARE_FLEX_ARRAY(TYPE, NAME) struct { struct { } __empty_##NAME; TYPE NAME[]; }
#define BIT(n) (1UL << (n))
#define BIT_ULL(n) (1ULL << (n))
#include <linux/mlx5/mlx5_ifc.h>
