/* prm: Linux's include/linux/mlx5/mlx5_ifc.h and device.h, compiled as plain
 * C outside the kernel: the kernel types and macros they use, then the
 * headers themselves (prm/kernel_shim/ stands in for the two kernel headers
 * device.h includes that user space lacks). Only C translation units that
 * need the headers' own layouts include this (the build's probe from
 * prm/gen_prm.py; tests/unit/prm_ifc_values.c); C++ uses prm/prm_layouts.h. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h> /* linux-libc-dev: __u8.., __be16/32/64 */
typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
/* include/uapi/linux/stddef.h: a flexible array allowed inside a union. */
#define DECLARE_FLEX_ARRAY(TYPE, NAME) struct { struct { } __empty_##NAME; TYPE NAME[]; }
#define BIT(n) (1UL << (n))
#define BIT_ULL(n) (1ULL << (n))
#define GENMASK(h, l) (((~0U) << (l)) & (~0U >> (31 - (h))))
#define GENMASK_ULL(h, l) (((~0ULL) << (l)) & (~0ULL >> (63 - (h))))
#define __packed __attribute__((packed))
#define __aligned(x) __attribute__((aligned(x)))
/* device.h: only MLX5_SET_HOST_ENDIANNESS depends on it (x86: little). */
#define __LITTLE_ENDIAN 1234
#define PAGE_SIZE 4096
/* rdma/ib_verbs.h: the 40-byte GRH, as a size only. */
struct ib_grh {
    u8 raw[40];
};
#include <linux/mlx5/mlx5_ifc.h>
#include <linux/mlx5/device.h>
