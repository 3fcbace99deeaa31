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
	HCASIM_CMD_CREATE_MKEY     = 0x200,
	HCASIM_CMD_DESTROY_MKEY    = 0x202,
	HCASIM_CMD_ALLOC_MEMIC     = 0x205,
	HCASIM_CMD_DEALLOC_MEMIC   = 0x206,
	HCASIM_CMD_MODIFY_MEMIC    = 0x207,
	HCASIM_CMD_ALLOC_SW_ICM    = 0xa00, /* CREATE_GENERAL_OBJECT(SW_ICM) */
	HCASIM_CMD_DEALLOC_SW_ICM  = 0xa03, /* DESTROY_GENERAL_OBJECT(SW_ICM) */
	HCASIM_CMD_ALLOC_DMAH      = 0xb00, /* hcasim: TPH DMA handle */
	HCASIM_CMD_DEALLOC_DMAH    = 0xb01,
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
	HCASIM_SYND_MEMIC_BUSY           = 0x0c0de206,
	HCASIM_SYND_MKEY_BAD_ACCESS      = 0x0c0de301,
	HCASIM_SYND_MKEY_BAD_LENGTH      = 0x0c0de302,
	HCASIM_SYND_MKEY_BAD_MTT         = 0x0c0de303,
	HCASIM_SYND_MKEY_MTT_DMA_FAULT   = 0x0c0de304,
	HCASIM_SYND_MKEY_BAD_DM_RANGE    = 0x0c0de305,
	HCASIM_SYND_MKEY_BAD_MODE        = 0x0c0de306,
	HCASIM_SYND_MKEY_EXHAUSTED       = 0x0c0de307,
	HCASIM_SYND_MKEY_BAD_HANDLE      = 0x0c0de308,
	HCASIM_SYND_DMAH_NOT_SUPPORTED   = 0x0c0de401,
	HCASIM_SYND_DMAH_BAD_PH          = 0x0c0de402,
	HCASIM_SYND_DMAH_BAD_MEM_TYPE    = 0x0c0de403,
	HCASIM_SYND_DMAH_NO_ST_INDEX     = 0x0c0de404,
	HCASIM_SYND_DMAH_BAD_HANDLE      = 0x0c0de405,
	HCASIM_SYND_DMAH_BUSY            = 0x0c0de406,
	HCASIM_SYND_DMAH_BAD_CPU         = 0x0c0de407,
	HCASIM_SYND_MEMIC_BAD_OP         = 0x0c0de207,
	HCASIM_SYND_NOT_PRIVILEGED       = 0x0c0de501,
	HCASIM_SYND_SW_ICM_BAD_TYPE      = 0x0c0de502,
	HCASIM_SYND_SW_ICM_BAD_LENGTH    = 0x0c0de503,
	HCASIM_SYND_SW_ICM_EXHAUSTED     = 0x0c0de504,
	HCASIM_SYND_SW_ICM_BAD_ADDR      = 0x0c0de505,
	HCASIM_SYND_SW_ICM_BUSY          = 0x0c0de506,
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
	uint32_t max_mkeys;
	uint32_t tph_st_entries;          /* ST table entries in the TPH capability */
	uint32_t log_page_size;           /* MTT page size, log2 bytes (12) */
	uint32_t privileged;              /* 1: may allocate SW ICM */
	/* SW ICM pools, indexed by hcasim_sw_icm_type (entry 0 unused). */
	struct {
		uint64_t base;              /* ICM address of the pool */
		uint64_t size;              /* bytes */
		uint32_t log_granularity;   /* log2 bytes of the allocation block */
		uint32_t rsvd;
	} sw_icm[5];
	uint64_t memic_op_offset;         /* BAR2 offset of the first MEMIC op window */
	uint64_t memic_op_stride;         /* bytes between op windows (one per op) */
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

/* ---- CREATE_MKEY / DESTROY_MKEY ------------------------------------------
 * An mkey is the device's view of a memory region: a PD, access rights,
 * a virtual range [iova, iova + length) and where its bytes are.
 *  - MTT mode: host pages.  start = offset of byte 0 within the first page;
 *    the page bus addresses (num_mtt of them, 4 KiB pages) sit in
 *    num_mtt_pages DMA pages of HCASIM_MTT_PER_PAGE entries, whose bus
 *    addresses follow the struct.
 *  - MEMIC mode: start = BAR2 offset of byte 0; the range must lie inside
 *    one live MEMIC block of the same channel.  Zero-based (iova 0).
 * lkey = rkey = mkey.  Access bits have rdma-core's IBV_ACCESS_* values;
 * remote write/atomic need local write (IB spec, as the kernel checks).
 */
#define HCASIM_ACCESS_LOCAL_WRITE   0x01u
#define HCASIM_ACCESS_REMOTE_WRITE  0x02u
#define HCASIM_ACCESS_REMOTE_READ   0x04u
#define HCASIM_ACCESS_REMOTE_ATOMIC 0x08u
#define HCASIM_ACCESS_ZERO_BASED    0x20u
#define HCASIM_ACCESS_ALL           0x2fu
#define HCASIM_MTT_PER_PAGE         512u

enum hcasim_mkey_mode {
	HCASIM_MKEY_MODE_MTT    = 0,
	HCASIM_MKEY_MODE_MEMIC  = 1,
	HCASIM_MKEY_MODE_SW_ICM = 2, /* start = ICM address; one live block */
};

struct hcasim_create_mkey_in {
	struct hcasim_cmd_in_hdr hdr;
	uint32_t pdn;
	uint32_t access;        /* HCASIM_ACCESS_* */
	uint64_t iova;          /* virtual address of byte 0 (0 if zero-based) */
	uint64_t length;        /* bytes, > 0 */
	uint32_t mode;          /* hcasim_mkey_mode */
	uint32_t dmah;          /* DMA handle for TPH, 0 = none */
	uint64_t start;         /* see above */
	uint32_t num_mtt;       /* 4 KiB pages covering the range (MTT mode) */
	uint32_t num_mtt_pages; /* DMA pages holding the entries */
	/* followed by uint64_t mtt_pages[num_mtt_pages] */
};
#define HCASIM_MAX_MTT_PAGES \
	((HCASIM_CMD_MAX_MAILBOX - sizeof(struct hcasim_create_mkey_in)) / 8u)

struct hcasim_create_mkey_out {
	struct hcasim_cmd_out_hdr hdr;
	uint32_t mkey;          /* lkey = rkey */
	uint32_t rsvd;
};
struct hcasim_destroy_mkey_in {
	struct hcasim_cmd_in_hdr hdr;
	uint32_t mkey;
	uint32_t rsvd;
};
struct hcasim_destroy_mkey_out {
	struct hcasim_cmd_out_hdr hdr;
};

/* ---- ALLOC_DMAH / DEALLOC_DMAH ---------------------------------------------
 * A DMA handle: the TPH processing hint (PH, 0..3) and, optionally, the
 * steering tag of a CPU for a memory type (the platform's cpu -> ST map,
 * which hcasim-device is given on its command line).  The firmware picks
 * an ST table index (shared by handles with the same tag); the driver
 * writes the tag into the function's ST table and enables TPH.  DMA writes
 * through an mkey with a handle carry PH, the ST read from the ST table
 * entry, and the memory type.  (PCIe base spec §6.17 TPH; rdma-core
 * ibv_alloc_dmah(3).)
 */
enum hcasim_tph_mem_type {
	HCASIM_TPH_MEM_VOLATILE   = 0,
	HCASIM_TPH_MEM_PERSISTENT = 1,
};
#define HCASIM_DMAH_FLAG_ST 0x1u  /* cpu_id and mem_type are given */

struct hcasim_alloc_dmah_in {
	struct hcasim_cmd_in_hdr hdr;
	uint32_t flags;         /* HCASIM_DMAH_FLAG_* */
	uint32_t cpu_id;
	uint8_t  ph;            /* processing hint, 0..3 */
	uint8_t  mem_type;      /* hcasim_tph_mem_type */
	uint8_t  rsvd[6];
};
struct hcasim_alloc_dmah_out {
	struct hcasim_cmd_out_hdr hdr;
	uint32_t dmah;
	uint16_t st_index;      /* 0xffff: no ST (no-ST mode) */
	uint16_t st_value;
};
struct hcasim_dealloc_dmah_in {
	struct hcasim_cmd_in_hdr hdr;
	uint32_t dmah;
	uint32_t rsvd;
};
struct hcasim_dealloc_dmah_out {
	struct hcasim_cmd_out_hdr hdr;
};
#define HCASIM_ST_INDEX_NONE 0xffffu

/* ---- MODIFY_MEMIC: MEMIC operation addresses ------------------------------
 * BAR2 holds the MEMIC pool at 0 (mmap-able) and, after it, one trapped
 * window per operation, each an alias of the pool: an access at
 * memic_op_offset + op * memic_op_stride + x acts on pool byte x.  The
 * window works for a block once MODIFY_MEMIC enabled that op on it.
 *   op 0, atomic increment: a 4/8-byte write adds the value written;
 *   op 1, test-and-set: a 4/8-byte read returns the old value and sets 1.
 * (mlx5dv_dm_map_op_addr(3).)
 */
enum hcasim_memic_op {
	HCASIM_MEMIC_OP_ATOMIC_INC   = 0,
	HCASIM_MEMIC_OP_TEST_AND_SET = 1,
	HCASIM_MEMIC_NUM_OPS         = 2,
};
struct hcasim_modify_memic_in {
	struct hcasim_cmd_in_hdr hdr;
	uint64_t memic_addr;    /* block start (BAR2 offset) */
	uint32_t op;            /* hcasim_memic_op */
	uint32_t rsvd;
};
struct hcasim_modify_memic_out {
	struct hcasim_cmd_out_hdr hdr;
	uint64_t op_addr;       /* BAR2 offset of the block in the op's window */
};

/* ---- ALLOC_SW_ICM / DEALLOC_SW_ICM ----------------------------------------
 * Steering / header-modify / header-modify-pattern / encap ICM, the
 * mlx5dv_alloc_dm(3) SW ICM types (same numbers as MLX5DV_DM_TYPE_*).
 * Needs a privileged function (hcasim-device --privileged), else
 * BAD_SYS_STATE / NOT_PRIVILEGED.  length: a power of two, a multiple of
 * the pool's granularity; the block is aligned to its length.  ICM is not
 * CPU-mappable: it is used through DM MRs.
 */
enum hcasim_sw_icm_type {
	HCASIM_SW_ICM_STEERING              = 1,
	HCASIM_SW_ICM_HEADER_MODIFY         = 2,
	HCASIM_SW_ICM_HEADER_MODIFY_PATTERN = 3,
	HCASIM_SW_ICM_ENCAP                 = 4,
};
struct hcasim_alloc_sw_icm_in {
	struct hcasim_cmd_in_hdr hdr;
	uint32_t type;          /* hcasim_sw_icm_type */
	uint32_t rsvd;
	uint64_t length;        /* bytes */
};
struct hcasim_alloc_sw_icm_out {
	struct hcasim_cmd_out_hdr hdr;
	uint64_t icm_addr;
};
struct hcasim_dealloc_sw_icm_in {
	struct hcasim_cmd_in_hdr hdr;
	uint32_t type;
	uint32_t rsvd;
	uint64_t icm_addr;
	uint64_t length;
};
struct hcasim_dealloc_sw_icm_out {
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
