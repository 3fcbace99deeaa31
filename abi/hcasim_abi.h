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
 * no Linux driver matches 1234:4863.  In the guest only hcasim's own module
 * hcasim_irq (guest/kmod, abi/hcasim_irq.h) binds it, for its MSI-X
 * interrupts; the userspace driver owns everything else. */
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
#define HCASIM_MSIX_VECTORS     64u /* one per event queue: comp channels, async EQs */
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
/* 0x002C: HCASIM_REG_WAKE (data path, below) */

#define HCASIM_MAGIC        0x48434153u /* "HCAS" */
#define HCASIM_ABI_VERSION  2u
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
 * 128 channels: on mlx5 a context is a uverbs file and programs keep dozens
 * open (rdma-core's python suite keeps the context of every test skipped
 * after its setUp opened one); BAR0 has room for 240.
 */
#define HCASIM_NUM_CHANNELS       128u
#define HCASIM_CHANNEL_BASE       0x1000u
#define HCASIM_CHANNEL_STRIDE     0x100u
#define HCASIM_CH_CMDQ_ADDR_LO    0x00u /* command queue DMA address, 4 KiB aligned */
#define HCASIM_CH_CMDQ_ADDR_HI    0x04u
#define HCASIM_CH_DOORBELL        0x08u /* write: entry index to execute */
#define HCASIM_CH_OWNER           0x0Cu /* claim/release token */
#define HCASIM_CH_COMPLETED       0x10u /* commands completed (wraps) */
#define HCASIM_CH_MSIX_VECTOR     0x14u /* completion vector, HCASIM_MSIX_VECTOR_NONE = none */

/* "None" in a 32-bit handle or vector field: no EQ (an eqn or async_eqn
 * of a create command), no MSI-X vector (an EQ or a channel). */
#define HCASIM_EQN_NONE           0xffffffffu
#define HCASIM_MSIX_VECTOR_NONE   0xffffffffu

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
	HCASIM_CMD_ALLOC_UAR       = 0x802,
	HCASIM_CMD_DEALLOC_UAR     = 0x803,
	HCASIM_CMD_CREATE_EQ       = 0x301,
	HCASIM_CMD_DESTROY_EQ      = 0x302,
	HCASIM_CMD_CREATE_CQ       = 0x400,
	HCASIM_CMD_DESTROY_CQ      = 0x401,
	HCASIM_CMD_QUERY_CQ        = 0x402,
	HCASIM_CMD_MODIFY_CQ       = 0x403, /* resize */
	HCASIM_CMD_CREATE_QP       = 0x500,
	HCASIM_CMD_DESTROY_QP      = 0x501,
	HCASIM_CMD_MODIFY_QP       = 0x50d, /* hcasim: one command for every transition */
	HCASIM_CMD_QUERY_QP        = 0x50b,
	HCASIM_CMD_CREATE_SRQ      = 0x700,
	HCASIM_CMD_DESTROY_SRQ     = 0x701,
	HCASIM_CMD_QUERY_SRQ       = 0x702,
	HCASIM_CMD_MODIFY_SRQ      = 0x703, /* ARM_RQ: srq_limit */
	HCASIM_CMD_QUERY_PORT      = 0x750, /* QUERY_VPORT_STATE + ROCE address */
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
	HCASIM_SYND_UAR_EXHAUSTED        = 0x0c0de601,
	HCASIM_SYND_UAR_BAD_HANDLE       = 0x0c0de602,
	HCASIM_SYND_UAR_BUSY             = 0x0c0de603,
	HCASIM_SYND_QUEUE_BAD_SIZE       = 0x0c0de701, /* log size/stride outside the caps */
	HCASIM_SYND_QUEUE_BAD_BUF        = 0x0c0de702, /* page list inconsistent or unreadable */
	HCASIM_SYND_QUEUE_BAD_DBREC      = 0x0c0de703, /* doorbell record unaligned / outside memory */
	HCASIM_SYND_CQ_EXHAUSTED         = 0x0c0de711,
	HCASIM_SYND_CQ_BAD_HANDLE        = 0x0c0de712,
	HCASIM_SYND_CQ_BUSY              = 0x0c0de713,
	HCASIM_SYND_CQ_RESIZE_TOO_SMALL  = 0x0c0de714, /* fewer entries than unpolled CQEs */
	HCASIM_SYND_EQ_EXHAUSTED         = 0x0c0de721,
	HCASIM_SYND_EQ_BAD_HANDLE        = 0x0c0de722,
	HCASIM_SYND_EQ_BUSY              = 0x0c0de723,
	HCASIM_SYND_QP_EXHAUSTED         = 0x0c0de731,
	HCASIM_SYND_QP_BAD_HANDLE        = 0x0c0de732,
	HCASIM_SYND_QP_BAD_TYPE          = 0x0c0de733,
	HCASIM_SYND_QP_BAD_TRANSITION    = 0x0c0de734, /* state pair not allowed */
	HCASIM_SYND_QP_BAD_ATTR_MASK     = 0x0c0de735, /* required missing or extra attribute */
	HCASIM_SYND_QP_BAD_ATTR          = 0x0c0de736, /* attribute value out of range */
	HCASIM_SYND_QP_BAD_CUR_STATE     = 0x0c0de737, /* cur_qp_state does not match */
	HCASIM_SYND_SRQ_EXHAUSTED        = 0x0c0de741,
	HCASIM_SYND_SRQ_BAD_HANDLE       = 0x0c0de742,
	HCASIM_SYND_SRQ_BUSY             = 0x0c0de743,
	HCASIM_SYND_SRQ_BAD_LIMIT        = 0x0c0de744,
	HCASIM_SYND_PORT_BAD_NUM         = 0x0c0de751,
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
	/* Data path (ABI version 2). */
	uint64_t uar_bar_offset;          /* BAR2 offset of UAR page 0 (the status page) */
	uint32_t num_uars;                /* UAR pages after the status page */
	uint32_t max_qp;                  /* live QPs */
	uint32_t max_qp_wr;               /* WQEs per SQ or RQ, a power of two */
	uint32_t max_sge;                 /* SGEs per send or receive WQE */
	uint32_t max_cq;
	uint32_t max_cqe;                 /* CQEs per CQ, a power of two */
	uint32_t max_srq;
	uint32_t max_srq_wr;
	uint32_t max_srq_sge;
	uint32_t max_inline_data;         /* bytes of inline data per send WQE */
	uint32_t max_qp_rd_atom;          /* READ/atomic a QP answers as responder (IB max_qp_rd_atom) */
	uint32_t max_qp_init_rd_atom;     /* READ/atomic a QP initiates (IB max_qp_init_rd_atom) */
	uint32_t max_eq;
	uint32_t max_msg_sz;              /* bytes */
	uint32_t local_ca_ack_delay;      /* log2(4.096 us) units */
	uint32_t rsvd_dp[3];
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


/* ==== Data path ==========================================================
 * Queues live in host memory, laid out below; the device reads WQEs and
 * writes CQEs/EQEs by DMA.  Every queue has a doorbell record (8 bytes,
 * 8-byte aligned, in host memory) and belongs to a UAR: a 4 KiB page of
 * BAR2 that the driver maps and writes with plain stores (it never traps;
 * QEMU maps it straight into the guest, see docs/datapath.md).
 *
 * Posting: write the WQE, update the doorbell record, then bump the UAR's
 * kick counter (any value change).  While the device is POLLING it sees
 * the kick within microseconds.  When the status page says IDLE, the
 * driver also writes the UAR index to the trapped BAR0 register
 * HCASIM_REG_WAKE (one VM exit); both sides order their store and their
 * load with a full fence, so a kick is never lost (NVMe shadow doorbells
 * use the same pattern).
 */

/* ---- BAR2: UAR area --------------------------------------------------- */
#define HCASIM_UAR_PAGE_SIZE     4096u
#define HCASIM_NUM_UARS          512u  /* pages after the status page */
/* UAR index 1 + ch is command channel ch's UAR (the context's own);
 * ALLOC_UAR hands out the rest (thread domains get a dedicated one). */
#define HCASIM_CHANNEL_UAR(ch)   (1u + (uint32_t)(ch))
#define HCASIM_REG_WAKE          0x002Cu /* BAR0, write: a UAR index (trapped) */

/* UAR page 0: written by the device, read by drivers. */
enum hcasim_device_state {
	HCASIM_DEVSTATE_IDLE    = 0, /* not polling: kick BAR0 WAKE after a doorbell */
	HCASIM_DEVSTATE_POLLING = 1, /* polling UARs: a store is enough */
};
struct hcasim_status_page {
	uint32_t device_state;        /* hcasim_device_state */
	uint32_t port_state;          /* ibv_port_state of port 1 */
	uint64_t wakeups;             /* times the device left IDLE */
	uint64_t eq_seq[256];         /* per EQ: bumped after each EQE (see EQs) */
};
#define HCASIM_MAX_EQS 256u

/* UAR pages 1..num_uars: written by the driver. */
struct hcasim_uar {
	uint32_t cmd_pi;   /* channel UARs: command queue producer index
	                    * (entries [ci, cmd_pi) are the device's to run) */
	uint32_t kick;     /* bumped after updating any doorbell record of a
	                    * queue on this UAR */
	uint32_t rsvd[14];
};

/* ---- Doorbell records (host memory, little-endian) ---------------------- */
struct hcasim_qp_dbrec {
	uint32_t rq_pi;    /* receive WQEs posted (wraps; index = pi % entries) */
	uint32_t sq_pi;    /* send WQEs posted */
};
struct hcasim_cq_dbrec {
	uint32_t ci;       /* CQEs consumed */
	uint32_t arm;      /* (arm_sn << 2) | HCASIM_CQ_ARM_*: req_notify_cq bumps
	                    * arm_sn; the device fires one event per arm_sn */
};
#define HCASIM_CQ_ARM_NONE       0u
#define HCASIM_CQ_ARM_SOLICITED  1u
#define HCASIM_CQ_ARM_NEXT       2u
struct hcasim_srq_dbrec {
	uint32_t pi;       /* receive WQEs posted */
	uint32_t rsvd;
};

/* ---- Queue buffers in create commands --------------------------------
 * A ring is reached through a page list, exactly like an mkey's MTT: the
 * bus addresses of its 4 KiB pages sit in num_mtt_pages DMA pages of
 * HCASIM_MTT_PER_PAGE entries, whose addresses follow the command's fixed
 * input in the mailbox.
 */
struct hcasim_queue_buf {
	uint64_t dbrec;          /* bus address of the doorbell record */
	uint32_t page_offset;    /* byte 0 of the buffer within its first page */
	uint32_t num_pages;      /* 4 KiB pages the buffer touches */
	uint32_t num_mtt_pages;  /* DMA pages holding the page list */
	uint32_t rsvd;
	uint64_t length;         /* bytes of the buffer */
};

/* ---- Send WQE: fixed stride (power of two, >= 128), fixed segments ----
 * Opcodes are rdma-core's IBV_WR_* values; the device supports RDMA_WRITE,
 * RDMA_WRITE_WITH_IMM, SEND, SEND_WITH_IMM, RDMA_READ,
 * ATOMIC_CMP_AND_SWP and ATOMIC_FETCH_AND_ADD.  Anything else completes
 * with IBV_WC_LOC_QP_OP_ERR.
 */
#define HCASIM_WQE_SIGNALED   0x01u /* generate a CQE on success */
#define HCASIM_WQE_SOLICITED  0x02u
#define HCASIM_WQE_FENCE      0x04u /* wait for outstanding READ/atomics */
#define HCASIM_WQE_INLINE     0x08u /* data inline after the segments */

struct hcasim_wqe_ctrl {            /* offset 0 */
	uint8_t  opcode;            /* IBV_WR_* */
	uint8_t  flags;             /* HCASIM_WQE_* */
	uint8_t  num_sge;           /* data segments (0..max_send_sge) */
	uint8_t  rsvd0;
	uint32_t imm_data;          /* as ibv_send_wr.imm_data (network order) */
	uint64_t wr_id;
	uint32_t inline_len;        /* bytes of inline data (HCASIM_WQE_INLINE) */
	uint32_t rsvd1[3];
};
struct hcasim_wqe_raddr {           /* offset 32: RDMA and atomics */
	uint64_t remote_addr;
	uint32_t rkey;
	uint32_t rsvd;
};
struct hcasim_wqe_atomic {          /* offset 48 */
	uint64_t compare_add;
	uint64_t swap;
};
struct hcasim_wqe_ud {              /* offset 64: UD address vector */
	uint8_t  dgid[16];
	uint32_t remote_qpn;
	uint32_t remote_qkey;
	uint32_t flow_label;
	uint8_t  traffic_class;
	uint8_t  hop_limit;
	uint8_t  sl;
	uint8_t  is_global;
	uint16_t dlid;
	uint8_t  sgid_index;
	uint8_t  port_num;
	uint32_t rsvd[3];
};
struct hcasim_wqe_sge {             /* data segment, 16 bytes */
	uint64_t addr;
	uint32_t length;            /* bytes */
	uint32_t lkey;
};
#define HCASIM_WQE_RADDR_OFF    32u
#define HCASIM_WQE_ATOMIC_OFF   48u
#define HCASIM_WQE_UD_OFF       64u
#define HCASIM_WQE_DATA_OFF     112u /* SGEs, or inline data */
#define HCASIM_MIN_SQ_STRIDE    128u

/* Receive WQE (RQ and SRQ): a header and SGEs, stride a power of two >= 32. */
struct hcasim_recv_wqe {
	uint64_t wr_id;
	uint16_t num_sge;
	uint16_t next;              /* SRQ only: index of the next free WQE (mlx5) */
	uint32_t rsvd;
	/* followed by struct hcasim_wqe_sge[num_sge] */
};
#define HCASIM_MIN_RQ_STRIDE    32u

/* ---- CQE: 64 bytes; the last byte carries ownership ---------------------
 * The device owns a CQE until it writes it; the CQE at producer index pi
 * sits at pi % entries with owner = ((pi / entries) & 1) ^ 1, so a zeroed
 * ring starts out owned by the device.  Software owns the CQE at ci when
 * owner == ((ci / entries) & 1) ^ 1.  The device writes the body, then
 * (after a release fence) the owner byte.
 */
#define HCASIM_CQE_WITH_IMM   0x01u /* the driver reports IBV_WC_WITH_IMM */
#define HCASIM_CQE_GRH        0x02u /* IBV_WC_GRH: 40-byte GRH in front */
#define HCASIM_CQE_SOLICITED  0x80u /* the message had the SE bit */
#define HCASIM_CQE_SIZE       64u
struct hcasim_cqe {
	uint64_t wr_id;
	uint32_t byte_len;          /* bytes received or read/atomic length */
	uint32_t imm_data;          /* network order, with HCASIM_CQE_WITH_IMM */
	uint32_t qpn;               /* local QP */
	uint32_t src_qp;            /* UD: sender's QPN */
	uint32_t vendor_err;        /* HCASIM_SYND_* / wire syndrome on errors */
	uint16_t wqe_counter;       /* index of the completed WQE (mod 2^16) */
	uint8_t  opcode;            /* ibv_wc_opcode */
	uint8_t  status;            /* ibv_wc_status */
	uint8_t  flags;             /* HCASIM_CQE_* */
	uint8_t  sl;
	uint16_t pkey_index;
	uint16_t slid;
	uint8_t  dlid_path_bits;
	uint8_t  is_recv;           /* 1: RQ/SRQ completion, 0: SQ */
	uint32_t srqn;              /* SRQ completions: the SRQ */
	uint8_t  rsvd[19];
	uint8_t  owner;             /* bit 0 */
};

/* ---- EQE: 16 bytes, same ownership rule as CQEs --------------------------
 * Completion EQs (one per completion channel) carry COMPLETION events; a
 * context's async EQ carries the rest (rdma-core ibv_get_async_event(3)).
 * After writing an EQE the device bumps status_page.eq_seq[eqn] and raises
 * the EQ's interrupt.
 */
enum hcasim_event_type {
	HCASIM_EVENT_COMPLETION         = 0,  /* obj = cqn */
	HCASIM_EVENT_ASYNC              = 1,  /* obj and ibv_event = an ibv_event_type */
};
struct hcasim_eqe {
	uint8_t  type;              /* hcasim_event_type */
	uint8_t  ibv_event;         /* ibv_event_type for ASYNC */
	uint8_t  rsvd[2];
	uint32_t obj;               /* cqn, qpn, srqn or port number */
	uint32_t seq;               /* running number per EQ */
	uint8_t  rsvd2[3];
	uint8_t  owner;
};

/* ---- ALLOC_UAR / DEALLOC_UAR ------------------------------------------- */
struct hcasim_alloc_uar_in {
	struct hcasim_cmd_in_hdr hdr;
};
struct hcasim_alloc_uar_out {
	struct hcasim_cmd_out_hdr hdr;
	uint32_t uar;               /* index; page at uar_bar_offset + uar * 4096 */
	uint32_t rsvd;
};
struct hcasim_dealloc_uar_in {
	struct hcasim_cmd_in_hdr hdr;
	uint32_t uar;
	uint32_t rsvd;
};
struct hcasim_dealloc_uar_out {
	struct hcasim_cmd_out_hdr hdr;
};

/* ---- CREATE_EQ / DESTROY_EQ --------------------------------------------
 * msix_vector: the MSI-X vector (host-direct) the EQ raises; in a guest
 * the HCA's INTx line is raised too (docs/events.md).
 * hdr.op_mod: HCASIM_EQ_OPMOD_COMPLETION (a completion channel's EQ) or
 * HCASIM_EQ_OPMOD_ASYNC (a context's async EQ: it also gets the port's
 * events, IBV_EVENT_PORT_ACTIVE / IBV_EVENT_PORT_ERR, as mlx5's async EQ
 * subscribes to port change events). */
enum {
	HCASIM_EQ_OPMOD_COMPLETION = 0,
	HCASIM_EQ_OPMOD_ASYNC      = 1,
};
struct hcasim_create_eq_in {
	struct hcasim_cmd_in_hdr hdr;
	uint32_t log_size;          /* log2 entries */
	uint32_t msix_vector;       /* HCASIM_MSIX_VECTOR_NONE: none */
	struct hcasim_queue_buf buf;
};
struct hcasim_create_eq_out {
	struct hcasim_cmd_out_hdr hdr;
	uint32_t eqn;
	uint32_t rsvd;
};
struct hcasim_destroy_eq_in {
	struct hcasim_cmd_in_hdr hdr;
	uint32_t eqn;
	uint32_t rsvd;
};
struct hcasim_destroy_eq_out {
	struct hcasim_cmd_out_hdr hdr;
};

/* ---- CREATE_CQ / DESTROY_CQ / QUERY_CQ / MODIFY_CQ ------------------------
 * eqn: completion events go there (HCASIM_EQN_NONE: no channel); async_eqn:
 * CQ errors (overflow) go there.  MODIFY_CQ resizes: the device moves the
 * unpolled CQEs [ci, pi) to the start of the new ring; afterwards ci = 0
 * and pi = their count (the driver resets its ci and the dbrec). */
struct hcasim_create_cq_in {
	struct hcasim_cmd_in_hdr hdr;
	uint32_t log_size;          /* log2 entries (0..log2(max_cqe)) */
	uint32_t uar;
	uint32_t eqn;
	uint32_t async_eqn;         /* HCASIM_EQN_NONE: none */
	struct hcasim_queue_buf buf;
};
struct hcasim_create_cq_out {
	struct hcasim_cmd_out_hdr hdr;
	uint32_t cqn;
	uint32_t rsvd;
};
struct hcasim_destroy_cq_in {
	struct hcasim_cmd_in_hdr hdr;
	uint32_t cqn;
	uint32_t rsvd;
};
struct hcasim_destroy_cq_out {
	struct hcasim_cmd_out_hdr hdr;
};
struct hcasim_query_cq_in {
	struct hcasim_cmd_in_hdr hdr;
	uint32_t cqn;
	uint32_t rsvd;
};
struct hcasim_query_cq_out {
	struct hcasim_cmd_out_hdr hdr;
	uint32_t log_size;
	uint32_t pi;                /* CQEs written */
	uint32_t overflowed;        /* 1 once the CQ overflowed (CQ error) */
	uint32_t rsvd;
};
struct hcasim_modify_cq_in {
	struct hcasim_cmd_in_hdr hdr;
	uint32_t cqn;
	uint32_t log_size;          /* new size */
	struct hcasim_queue_buf buf;
};
struct hcasim_modify_cq_out {
	struct hcasim_cmd_out_hdr hdr;
	uint32_t moved;             /* CQEs moved into the new ring */
	uint32_t rsvd;
};

/* ---- QPs -----------------------------------------------------------------
 * Types and states have rdma-core's IBV_QPT_* / IBV_QPS_* values; the
 * attribute mask has IBV_QP_* bits.  One buffer holds the RQ at offset 0
 * and the SQ at sq_offset (mlx5's order).  A QP with an SRQ has no RQ. */
struct hcasim_ah_attr {
	uint8_t  dgid[16];
	uint32_t flow_label;
	uint8_t  sgid_index;
	uint8_t  hop_limit;
	uint8_t  traffic_class;
	uint8_t  is_global;
	uint16_t dlid;
	uint8_t  sl;
	uint8_t  src_path_bits;
	uint8_t  static_rate;
	uint8_t  port_num;
	uint8_t  rsvd[2];
};
struct hcasim_qp_attr {
	uint32_t qp_state;          /* IBV_QPS_* */
	uint32_t cur_qp_state;
	uint32_t path_mtu;          /* IBV_MTU_* (1 = 256 .. 5 = 4096) */
	uint32_t qkey;
	uint32_t rq_psn;            /* 24 bits */
	uint32_t sq_psn;            /* 24 bits */
	uint32_t dest_qp_num;       /* 24 bits */
	uint32_t qp_access_flags;   /* IBV_ACCESS_REMOTE_{WRITE,READ,ATOMIC} */
	uint16_t pkey_index;
	uint8_t  max_rd_atomic;
	uint8_t  max_dest_rd_atomic;
	uint8_t  min_rnr_timer;     /* IB encoding (0 = 655.36 ms, 1 = 0.01 ms ..) */
	uint8_t  port_num;
	uint8_t  timeout;           /* local ACK timeout: 4.096 us * 2^timeout, 0 = none */
	uint8_t  retry_cnt;         /* 0..7 */
	uint8_t  rnr_retry;         /* 0..7, 7 = infinite */
	uint8_t  sq_draining;
	uint8_t  en_sqd_async_notify;
	uint8_t  rsvd0;
	struct hcasim_ah_attr ah;
	uint32_t rate_limit;
	uint32_t rsvd1;
};
struct hcasim_create_qp_in {
	struct hcasim_cmd_in_hdr hdr;
	uint32_t type;              /* IBV_QPT_RC, IBV_QPT_UC, IBV_QPT_UD */
	uint32_t pdn;
	uint32_t send_cqn;
	uint32_t recv_cqn;
	uint32_t srqn;              /* 0: own RQ */
	uint32_t uar;
	uint32_t async_eqn;         /* HCASIM_EQN_NONE: none */
	uint8_t  log_sq_size;       /* log2 WQEs */
	uint8_t  log_sq_stride;     /* log2 bytes, >= 7 */
	uint8_t  log_rq_size;
	uint8_t  log_rq_stride;     /* log2 bytes, >= 5 */
	uint32_t sq_offset;         /* bytes from the buffer start */
	uint32_t max_send_sge;
	uint32_t max_recv_sge;
	uint32_t max_inline_data;
	uint32_t sq_sig_all;        /* 1: every send WQE is signaled */
	uint32_t rsvd;
	struct hcasim_queue_buf buf;
};
struct hcasim_create_qp_out {
	struct hcasim_cmd_out_hdr hdr;
	uint32_t qpn;               /* 24 bits */
	uint32_t rsvd;
};
struct hcasim_destroy_qp_in {
	struct hcasim_cmd_in_hdr hdr;
	uint32_t qpn;
	uint32_t rsvd;
};
struct hcasim_destroy_qp_out {
	struct hcasim_cmd_out_hdr hdr;
};
/* Transitions and attribute masks follow IBTA vol 1 10.3 / 11.2.4 as the
 * kernel's ib_modify_qp_is_ok() tables encode them; a bad pair or mask is
 * BAD_PARAM with a QP_BAD_* syndrome.  Moving to RESET is a barrier: the
 * device writes no CQE for the QP after the command completes.  Moving to
 * ERR flushes every outstanding WQE with IBV_WC_WR_FLUSH_ERR. */
struct hcasim_modify_qp_in {
	struct hcasim_cmd_in_hdr hdr;
	uint32_t qpn;
	uint32_t attr_mask;         /* IBV_QP_* */
	struct hcasim_qp_attr attr;
};
struct hcasim_modify_qp_out {
	struct hcasim_cmd_out_hdr hdr;
};
struct hcasim_query_qp_in {
	struct hcasim_cmd_in_hdr hdr;
	uint32_t qpn;
	uint32_t rsvd;
};
struct hcasim_query_qp_out {
	struct hcasim_cmd_out_hdr hdr;
	struct hcasim_qp_attr attr;  /* qp_state is the current state */
};

/* ---- SRQs ---------------------------------------------------------------- */
struct hcasim_create_srq_in {
	struct hcasim_cmd_in_hdr hdr;
	uint32_t pdn;
	uint32_t cqn;               /* unused for basic SRQs: 0 */
	uint32_t uar;
	uint32_t async_eqn;
	uint8_t  log_size;          /* log2 WQEs */
	uint8_t  log_stride;        /* log2 bytes, >= 5 */
	uint16_t rsvd0;
	uint32_t max_sge;
	uint32_t srq_limit;         /* 0: disarmed */
	uint32_t rsvd1;
	struct hcasim_queue_buf buf;
};
struct hcasim_create_srq_out {
	struct hcasim_cmd_out_hdr hdr;
	uint32_t srqn;
	uint32_t rsvd;
};
struct hcasim_destroy_srq_in {
	struct hcasim_cmd_in_hdr hdr;
	uint32_t srqn;
	uint32_t rsvd;
};
struct hcasim_destroy_srq_out {
	struct hcasim_cmd_out_hdr hdr;
};
/* Arms the limit: when fewer than srq_limit WQEs remain the device raises
 * IBV_EVENT_SRQ_LIMIT_REACHED once and disarms (IBTA vol 1 10.2.9.5). */
struct hcasim_modify_srq_in {
	struct hcasim_cmd_in_hdr hdr;
	uint32_t srqn;
	uint32_t srq_limit;
};
struct hcasim_modify_srq_out {
	struct hcasim_cmd_out_hdr hdr;
};
struct hcasim_query_srq_in {
	struct hcasim_cmd_in_hdr hdr;
	uint32_t srqn;
	uint32_t rsvd;
};
struct hcasim_query_srq_out {
	struct hcasim_cmd_out_hdr hdr;
	uint32_t srq_limit;         /* 0 when disarmed */
	uint32_t log_size;
	uint32_t max_sge;
	uint32_t rsvd;
};

/* ---- QUERY_PORT ---------------------------------------------------------
 * Port 1 is RoCE (Ethernet link layer).  GID table: index 0 the link-local
 * GID fe80::EUI-64(MAC) (RoCE v1 type), index 1 the IPv4-mapped
 * ::ffff:a.b.c.d (RoCE v2 type). */
#define HCASIM_GID_TABLE_LEN   2u
#define HCASIM_GID_TYPE_ROCE_V1 1u  /* = IBV_GID_TYPE_ROCE_V1 */
#define HCASIM_GID_TYPE_ROCE_V2 2u  /* = IBV_GID_TYPE_ROCE_V2 */
struct hcasim_query_port_in {
	struct hcasim_cmd_in_hdr hdr;
	uint32_t port;
	uint32_t rsvd;
};
struct hcasim_query_port_out {
	struct hcasim_cmd_out_hdr hdr;
	uint32_t state;             /* ibv_port_state */
	uint32_t phys_state;        /* 5 = LinkUp, 3 = Disabled */
	uint32_t max_mtu;           /* IBV_MTU_* */
	uint32_t active_mtu;
	uint8_t  active_width;      /* IBV_WIDTH_* encoding (2 = 4x) */
	uint8_t  active_speed;      /* IB speed encoding */
	uint8_t  link_layer;        /* IBV_LINK_LAYER_ETHERNET */
	uint8_t  num_gids;
	uint32_t max_msg_sz;
	uint8_t  mac[6];
	uint8_t  rsvd0[2];
	uint32_t ipv4;              /* network order */
	uint64_t port_speed_mbps;   /* port speed, Mb/s (ibv_query_port_speed: /100) */
	struct {
		uint8_t  gid[16];
		uint32_t type;          /* HCASIM_GID_TYPE_* */
		uint32_t rsvd;
	} gids[HCASIM_GID_TABLE_LEN];
};

#ifdef __cplusplus
static_assert(sizeof(struct hcasim_cmdq_entry) == HCASIM_CMDQ_ENTRY_SIZE, "entry");
static_assert(sizeof(struct hcasim_cmd_in_hdr) == 16, "in hdr");
static_assert(sizeof(struct hcasim_cmd_out_hdr) == 16, "out hdr");
static_assert(sizeof(struct hcasim_cqe) == HCASIM_CQE_SIZE, "cqe");
static_assert(sizeof(struct hcasim_eqe) == 16, "eqe");
static_assert(sizeof(struct hcasim_wqe_ctrl) == 32, "ctrl");
static_assert(sizeof(struct hcasim_wqe_ud) == 48, "ud");
static_assert(sizeof(struct hcasim_uar) == 64, "uar");
#else
_Static_assert(sizeof(struct hcasim_cmdq_entry) == HCASIM_CMDQ_ENTRY_SIZE, "entry");
#endif

#endif /* HCASIM_ABI_H */
