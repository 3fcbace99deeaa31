/*
 * hcasim device ABI: the one contract between the device model (firmware/,
 * device/, pcie/) and the userspace driver (verbs/).
 *
 * It models an mlx5-style HCA: a BAR0 register file (init segment, command
 * channels, health), a command queue in host memory reached by DMA, command
 * input/output mailboxes with an opcode header and a status + syndrome
 * footer, and a MEMIC window in BAR2.  Opcodes follow the mlx5 PRM numbering;
 * the layouts are hcasim's own and are all little-endian, naturally aligned.
 *
 * Units: every length is in bytes, every address in BAR2 is a byte offset
 * from the start of BAR2, every DMA address is a bus (guest-physical or
 * vfio-user IOVA) address.
 *
 * This header is plain C so that C programs and both C++ sides can use it.
 */
#ifndef HCASIM_ABI_H
#define HCASIM_ABI_H

#include <stdint.h>

/* ---- PCI identity (see docs/device.md) --------------------------------- */
/* 0x1234 is the "unassigned" vendor QEMU uses for its Bochs VGA (1234:1111);
 * no in-kernel driver matches 1234:4863, so nothing binds to the HCA and the
 * userspace driver owns it. */
#define HCASIM_PCI_VENDOR_ID      0x1234u
#define HCASIM_PCI_DEVICE_ID      0x4863u /* "Hc" */
#define HCASIM_PCI_SUBSYS_ID      0x0001u
#define HCASIM_PCI_REVISION       0x01u
#define HCASIM_PCI_CLASS_CODE     0x020700u /* network controller, InfiniBand */

/* BAR numbers */
#define HCASIM_BAR_REGS   0 /* 64-bit, non-prefetchable, trapped */
#define HCASIM_BAR_MEMIC  2 /* 64-bit, prefetchable, mmap-able memfd */
#define HCASIM_BAR_MSIX   4 /* 64-bit, MSI-X table + PBA (QEMU emulates) */

#define HCASIM_BAR0_SIZE        0x10000u /* 64 KiB */
#define HCASIM_BAR4_SIZE        0x2000u  /* 8 KiB: table page + PBA page */
#define HCASIM_MSIX_VECTORS     16u
#define HCASIM_MSIX_TABLE_OFF   0x0u
#define HCASIM_MSIX_PBA_OFF     0x1000u

/* ---- BAR0: init segment (read-only unless noted) ----------------------- */
#define HCASIM_REG_FW_REV        0x0000u /* (major << 16) | minor */
#define HCASIM_REG_FW_REV_SUB    0x0004u /* subminor */
#define HCASIM_REG_MAGIC         0x0008u /* HCASIM_MAGIC */
#define HCASIM_REG_ABI_VERSION   0x000Cu /* HCASIM_ABI_VERSION */
#define HCASIM_REG_NUM_CHANNELS  0x0010u /* command channels in BAR0 */
#define HCASIM_REG_CAPS          0x0014u /* HCASIM_CAP_* bits */
#define HCASIM_REG_MEMIC_SIZE_LO 0x0018u /* MEMIC pool size, bytes */
#define HCASIM_REG_MEMIC_SIZE_HI 0x001Cu
#define HCASIM_REG_HEALTH        0x0020u /* HCASIM_HEALTH_* */
#define HCASIM_REG_HEALTH_SYND   0x0024u /* syndrome of the last fatal error */
#define HCASIM_REG_READY         0x0028u /* 1 once firmware is up */

#define HCASIM_MAGIC        0x48434153u /* "HCAS" */
#define HCASIM_ABI_VERSION  1u
#define HCASIM_FW_MAJOR     1u
#define HCASIM_FW_MINOR     0u
#define HCASIM_FW_SUBMINOR  0u

#define HCASIM_CAP_MEMIC    (1u << 0)
#define HCASIM_CAP_TPH      (1u << 1)

#define HCASIM_HEALTH_OK            0u
#define HCASIM_HEALTH_FATAL         1u

/* ---- BAR0: command channels -------------------------------------------
 * Each open device context claims one channel: it writes a non-zero owner
 * token to OWNER and reads it back (a write of a non-zero token only takes
 * when the channel is free).  Writing 0 to OWNER releases the channel and
 * the device reclaims every object created through it (PDs, MEMIC).
 */
#define HCASIM_NUM_CHANNELS       16u
#define HCASIM_CHANNEL_BASE       0x1000u
#define HCASIM_CHANNEL_STRIDE     0x100u
#define HCASIM_CH_CMDQ_ADDR_LO    0x00u /* command queue DMA address, 4 KiB aligned */
#define HCASIM_CH_CMDQ_ADDR_HI    0x04u
#define HCASIM_CH_DOORBELL        0x08u /* write: entry index to execute */
#define HCASIM_CH_OWNER           0x0Cu /* claim/release token */
#define HCASIM_CH_COMPLETED       0x10u /* commands completed (wraps) */
#define HCASIM_CH_MSIX_VECTOR     0x14u /* completion vector, 0xffffffff = none */

#define HCASIM_CHANNEL_REG(ch, reg) \
	(HCASIM_CHANNEL_BASE + (uint32_t)(ch) * HCASIM_CHANNEL_STRIDE + (reg))

/* ---- Command queue ------------------------------------------------------
 * One 4 KiB page of 64-byte entries in host memory.  The driver fills an
 * entry, sets HCASIM_CMD_OWN_HW, then writes the entry index to DOORBELL.
 * The device reads the input mailbox, runs the command, writes the output
 * mailbox, then writes delivery_status and clears ownership (last).
 */
#define HCASIM_CMDQ_SIZE          4096u
#define HCASIM_CMDQ_ENTRY_SIZE    64u
#define HCASIM_CMDQ_ENTRIES       (HCASIM_CMDQ_SIZE / HCASIM_CMDQ_ENTRY_SIZE)
#define HCASIM_CMD_TYPE_PCIE      0x7u
#define HCASIM_CMD_OWN_HW         0x1u
#define HCASIM_CMD_MAX_MAILBOX    4096u /* bytes, each of input and output */

struct hcasim_cmdq_entry {
	uint8_t  type;            /* HCASIM_CMD_TYPE_PCIE */
	uint8_t  rsvd0[3];
	uint32_t in_len;          /* bytes, 16..HCASIM_CMD_MAX_MAILBOX */
	uint64_t in_ptr;          /* DMA address of the input mailbox */
	uint64_t out_ptr;         /* DMA address of the output mailbox */
	uint32_t out_len;         /* bytes, 16..HCASIM_CMD_MAX_MAILBOX */
	uint8_t  token;           /* echoed; the driver's sequence number */
	uint8_t  rsvd1;
	uint8_t  delivery_status; /* HCASIM_DELIVERY_* */
	uint8_t  own;             /* HCASIM_CMD_OWN_HW while the device owns it */
	uint32_t latency_ns;      /* device-side execution time */
	uint8_t  rsvd2[28];
};

/* Delivery status: the command could not even be executed. */
enum hcasim_delivery_status {
	HCASIM_DELIVERY_OK            = 0x0,
	HCASIM_DELIVERY_BAD_TYPE      = 0x1,
	HCASIM_DELIVERY_BAD_IN_PTR    = 0x2, /* input mailbox not readable by DMA */
	HCASIM_DELIVERY_BAD_OUT_PTR   = 0x3, /* output mailbox not writable by DMA */
	HCASIM_DELIVERY_BAD_LENGTH    = 0x4, /* in_len/out_len outside 16..4096 */
};

/* ---- Mailbox headers ---------------------------------------------------- */
struct hcasim_cmd_in_hdr {
	uint16_t opcode;
	uint16_t uid;     /* reserved, 0 */
	uint16_t rsvd0;
	uint16_t op_mod;
	uint32_t rsvd1[2];
};

struct hcasim_cmd_out_hdr {
	uint8_t  status;   /* HCASIM_STATUS_* */
	uint8_t  rsvd0[3];
	uint32_t syndrome; /* HCASIM_SYND_*: which check failed */
	uint32_t rsvd1[2];
};

/* Opcodes (mlx5 PRM numbering). */
enum hcasim_opcode {
	HCASIM_CMD_QUERY_HCA_CAP   = 0x100,
	HCASIM_CMD_ALLOC_MEMIC     = 0x205,
	HCASIM_CMD_DEALLOC_MEMIC   = 0x206,
	HCASIM_CMD_ALLOC_PD        = 0x800,
	HCASIM_CMD_DEALLOC_PD      = 0x801,
};

/* Command status (mlx5 PRM values). */
enum hcasim_status {
	HCASIM_STATUS_OK              = 0x00,
	HCASIM_STATUS_INTERNAL_ERR    = 0x01,
	HCASIM_STATUS_BAD_OP          = 0x02,
	HCASIM_STATUS_BAD_PARAM       = 0x03,
	HCASIM_STATUS_BAD_SYS_STATE   = 0x04,
	HCASIM_STATUS_BAD_RESOURCE    = 0x05,
	HCASIM_STATUS_RESOURCE_BUSY   = 0x06,
	HCASIM_STATUS_EXCEED_LIM      = 0x08,
	HCASIM_STATUS_BAD_RES_STATE   = 0x09,
	HCASIM_STATUS_NO_RESOURCES    = 0x0f,
	HCASIM_STATUS_BAD_INPUT_LEN   = 0x50,
	HCASIM_STATUS_BAD_OUTPUT_LEN  = 0x51,
};

/* Syndromes: one per check, so a trace line names the exact failure. */
enum hcasim_syndrome {
	HCASIM_SYND_NONE                 = 0x00000000,
	HCASIM_SYND_UNKNOWN_OPCODE       = 0x0c0de001,
	HCASIM_SYND_IN_TOO_SHORT         = 0x0c0de002,
	HCASIM_SYND_OUT_TOO_SHORT        = 0x0c0de003,
	HCASIM_SYND_FAULT_INJECTED       = 0x0c0de004,
	HCASIM_SYND_BAD_OP_MOD           = 0x0c0de005,
	HCASIM_SYND_RESERVED_NOT_ZERO    = 0x0c0de006,
	HCASIM_SYND_PD_EXHAUSTED         = 0x0c0de101,
	HCASIM_SYND_PD_BAD_HANDLE        = 0x0c0de102,
	HCASIM_SYND_PD_BUSY              = 0x0c0de103,
	HCASIM_SYND_MEMIC_NOT_SUPPORTED  = 0x0c0de201,
	HCASIM_SYND_MEMIC_BAD_LENGTH     = 0x0c0de202,
	HCASIM_SYND_MEMIC_BAD_ALIGN      = 0x0c0de203,
	HCASIM_SYND_MEMIC_EXHAUSTED      = 0x0c0de204,
	HCASIM_SYND_MEMIC_BAD_ADDR       = 0x0c0de205,
};

/* ---- QUERY_HCA_CAP (op_mod 0: general + device memory caps) ------------ */
struct hcasim_query_hca_cap_out {
	struct hcasim_cmd_out_hdr hdr;
	uint32_t fw_rev;                  /* (major << 16) | minor */
	uint32_t fw_rev_sub;
	uint64_t node_guid;
	uint64_t sys_image_guid;
	uint32_t vendor_part_id;
	uint32_t hw_ver;
	uint32_t max_pd;
	uint32_t max_mr;
	uint64_t max_mr_size;             /* bytes */
	uint64_t memic_bar_size;          /* MEMIC pool size, bytes */
	uint64_t memic_bar_offset;        /* pool start within BAR2, bytes */
	uint32_t log_memic_alloc_unit;    /* log2 bytes of the allocation unit (6 = 64 B) */
	uint32_t log_max_memic_addr_alignment; /* log2 bytes */
	uint32_t caps;                    /* HCASIM_CAP_* */
	uint32_t phys_port_cnt;
};

/* ---- ALLOC_PD / DEALLOC_PD ---------------------------------------------- */
struct hcasim_alloc_pd_in {
	struct hcasim_cmd_in_hdr hdr;
};
struct hcasim_alloc_pd_out {
	struct hcasim_cmd_out_hdr hdr;
	uint32_t pdn;
	uint32_t rsvd;
};
struct hcasim_dealloc_pd_in {
	struct hcasim_cmd_in_hdr hdr;
	uint32_t pdn;
	uint32_t rsvd;
};
struct hcasim_dealloc_pd_out {
	struct hcasim_cmd_out_hdr hdr;
};

/* ---- ALLOC_MEMIC / DEALLOC_MEMIC -----------------------------------------
 * length: bytes, a non-zero multiple of the allocation unit (64 B).
 * log_alignment: log2 bytes of the required start alignment; values below
 * the allocation unit mean the unit, values above
 * log_max_memic_addr_alignment fail with BAD_PARAM.
 * memic_addr: byte offset of the block in BAR2.
 */
struct hcasim_alloc_memic_in {
	struct hcasim_cmd_in_hdr hdr;
	uint64_t length;
	uint32_t log_alignment;
	uint32_t rsvd;
};
struct hcasim_alloc_memic_out {
	struct hcasim_cmd_out_hdr hdr;
	uint64_t memic_addr;
};
struct hcasim_dealloc_memic_in {
	struct hcasim_cmd_in_hdr hdr;
	uint64_t memic_addr;
	uint64_t length;
};
struct hcasim_dealloc_memic_out {
	struct hcasim_cmd_out_hdr hdr;
};

#ifdef __cplusplus
static_assert(sizeof(struct hcasim_cmdq_entry) == HCASIM_CMDQ_ENTRY_SIZE, "entry");
static_assert(sizeof(struct hcasim_cmd_in_hdr) == 16, "in hdr");
static_assert(sizeof(struct hcasim_cmd_out_hdr) == 16, "out hdr");
#else
_Static_assert(sizeof(struct hcasim_cmdq_entry) == HCASIM_CMDQ_ENTRY_SIZE, "entry");
#endif

#endif /* HCASIM_ABI_H */
