// hcasim's verbs provider: the objects behind rdma-core's public structs.
// Each shell below is standard-layout with the rdma-core struct first, so
// a pointer to the public struct converts back to the shell (the same
// pattern as rdma-core providers' to_mctx()/to_mpd()).
#pragma once

#include "verbs/command_channel.h"
#include "verbs/transport.h"

#include <infiniband/verbs.h>

#include <unistd.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#define HCASIM_EXPORT extern "C" __attribute__((visibility("default")))

// libibverbs' fork ranges (rdma-core declares them in <infiniband/driver.h>,
// for providers): util.cpp.
extern "C" int ibv_dontfork_range(void* base, size_t size);
extern "C" int ibv_dofork_range(void* base, size_t size);

namespace hcasim::verbs {

// Where a device is reached.
struct DeviceLocation {
    enum class Kind { Pci, VfioUser } kind;
    std::string path;  // sysfs PCI dir, or socket path
};

struct DeviceShell {
    ibv_device dev;  // first
    DeviceLocation* loc;
    std::atomic<uint64_t> node_guid{0};  // from QUERY_HCA_CAP, once a context opened
};

// A UAR: one doorbell page of BAR2 (abi/hcasim_abi.h, "Data path").
struct Uar {
    uint32_t index = 0;
    volatile hcasim_uar* page = nullptr;  // nullptr: not mapped (kicks are WAKE writes)
};

// Doorbell records the library allocates itself: 64-byte slots of DMA
// pages (one per cache line, as mlx5 does), shared by a context's queues.
class DbrecPool {
public:
    // A zeroed 8-byte record: its address and bus address.  0 or errno.
    int alloc(Transport& t, uint32_t*& va, uint64_t& bus);
    void free(uint32_t* va);
    void release(Transport& t);  // at close: every page back

private:
    struct Slot {
        uint32_t* va;
        uint64_t bus;
    };
    std::mutex mu_;
    std::vector<DmaRegion> pages_;
    std::vector<Slot> free_;
};

struct EventQueue;
struct QpShell;
struct CqShell;
struct SrqShell;

// Per-context state that is not part of rdma-core's structs.
struct ContextImpl {
    std::shared_ptr<Transport> transport;  // shared by a process's contexts of one device
    std::unique_ptr<CommandChannel> cmd;
    hcasim_query_hca_cap_out caps{};
    volatile hcasim_status_page* status = nullptr;  // UAR page 0 (nullptr: not mapped)
    Uar uar;                                        // the command channel's UAR
    DbrecPool dbrecs;
    // Async events (ibv_get_async_event): the context's event queue, when
    // interrupts reach this process, and the objects events can name.
    std::unique_ptr<EventQueue> async;
    std::mutex obj_mu;
    std::map<uint32_t, QpShell*> qps;
    std::map<uint32_t, CqShell*> cqs;
    std::map<uint32_t, SrqShell*> srqs;
    uint32_t async_eqn() const;
    int fds[2] = {-1, -1};  // cmd_fd/async_fd stand-ins (eventfds)
    const DeviceLocation* loc = nullptr;
    pid_t pid = 0;          // the process that owns transport and cmd
};

// Connects a context's transport, claims its channel and reads the caps.
int attach(ContextImpl& c);
// After fork() the child cannot use its parent's DMA pages (DONTFORK) nor
// its command channel: give the child its own (rdma-core programs, and
// pyverbs' tests, use the parent's context from forked children).
void reattach_after_fork(ContextImpl& c);
// UAR page `index` of the context's BAR2 mapping (nullptr: not mapped).
volatile hcasim_uar* uar_page(ContextImpl& c, uint32_t index);

struct ContextShell {
    verbs_context vctx;  // first; its last member is the ibv_context
    ContextImpl* impl;
};

struct TdShell {
    ibv_td td;  // first
    std::atomic<int> refcount;  // 1 + parent domains using it
    Uar uar;                    // its own doorbell page (ALLOC_UAR), if mapped
};

// A protection domain, or a parent domain (rdma-core
// ibv_alloc_parent_domain(3)): both are an ibv_pd to the caller.
struct PdShell {
    ibv_pd pd;  // first
    uint32_t pdn;               // the device PD (a parent domain's PD's)
    std::atomic<int> refcount;  // 1 + parent domains / objects using it
    // Parent domain only:
    bool is_parent = false;
    PdShell* protection = nullptr;
    TdShell* td = nullptr;
    void* (*alloc)(ibv_pd*, void*, size_t, size_t, uint64_t) = nullptr;
    void (*free)(ibv_pd*, void*, void*, uint64_t) = nullptr;
    void* pd_context = nullptr;
};

// The PD a (parent) domain protects with.
inline PdShell* real_pd(PdShell* p) { return p->is_parent ? p->protection : p; }

struct DmahShell {
    ibv_dmah dmah;  // first
    uint32_t handle;
    std::atomic<int> refcount;  // 1 + MRs using it
};

struct MrShell {
    ibv_mr mr;  // first
    uint32_t mkey;
    struct DmShell* dm = nullptr;  // DM MR: the DM it lies in
    void* pinned = nullptr;  // host range pinned for the MTT
    size_t pinned_len = 0;
    bool dontfork = false;   // pinned is in the fork ranges (ibv_dontfork_range)
    DmahShell* dmah = nullptr;
};

struct DmShell {
    ibv_dm dm;          // first
    std::atomic<int> mrs{0};  // DM MRs on it (ibv_free_dm -> EBUSY)
    uint32_t type;        // MLX5DV_DM_TYPE_* (0 = MEMIC)
    uint64_t memic_addr;  // MEMIC: byte offset in BAR2
    uint64_t remote_va;   // SW ICM: the ICM address
    uint64_t length;      // bytes the user asked for (bounds of memcpy)
    uint64_t alloc_len;   // bytes allocated (64-byte units / power of two)
    uint8_t* va;          // MEMIC: CPU mapping of the block; SW ICM: NULL
};

// Provider buffers (queue rings, doorbell records), through a parent
// domain's allocators: alloc(pd, pd_context, size, alignment,
// resource_type), with IBV_ALLOCATOR_USE_DEFAULT meaning "allocate it
// yourself" and NULL a failure (ENOMEM).  resource_type is one of
// mlx5dv.h's MLX5DV_RES_TYPE_*.  User memory is pinned and translated like
// registered memory; the library's own comes from Transport::alloc_dma, so
// the device reaches it without help (host-direct: the fd-backed arena).
struct ProviderBuffer {
    uint8_t* ptr = nullptr;
    size_t size = 0;
    uint64_t resource_type = 0;
    bool from_user_allocator = false;
    DmaRegion own;                // the library's memory
    std::vector<uint64_t> pages;  // bus address of each 4 KiB page it touches
    uint32_t page_offset = 0;     // byte 0 within the first page
};
// pd may be nullptr (no parent domain) or any PD.  0 or errno.
int provider_buffer_alloc(ContextImpl& c, ibv_pd* pd, size_t size, size_t alignment,
                          uint64_t resource_type, ProviderBuffer& out);
void provider_buffer_free(ContextImpl& c, ibv_pd* pd, ProviderBuffer& buf);

// A doorbell record (8 bytes, 8-byte aligned): from the parent domain's
// allocator (MLX5DV_RES_TYPE_DBR, size 8, alignment 8) or the context's pool.
struct Dbrec {
    uint32_t* va = nullptr;
    uint64_t bus = 0;
    ProviderBuffer user;  // set when the allocator gave the memory
};
int dbrec_alloc(ContextImpl& c, ibv_pd* pd, Dbrec& out);
void dbrec_free(ContextImpl& c, ibv_pd* pd, Dbrec& db);

// A device event queue (CREATE_EQ) on an MSI-X vector of its own, which
// the device signals through `fd`, an eventfd in semaphore mode: one count
// per EQE, so the fd is readable exactly while events are pending
// (eq.cpp).  Completion channels and a context's async events use one.
struct EventQueue {
    ContextImpl* c = nullptr;
    int fd = -1;
    unsigned vector = 0;
    bool has_irq = false;
    ProviderBuffer ring;
    Dbrec db;
    uint32_t eqn = 0;
    uint32_t entries = 0;
    uint32_t ci = 0;
    std::mutex mu;  // the consumer side
    // 0 or errno (EOPNOTSUPP where no interrupt reaches this process).
    // An async EQ (the context's) also gets the port's events.
    int open(ContextImpl& ctx, bool async_events);
    // DESTROY_EQ and everything back; 0 or the command's errno.
    int close();
    // Takes the next EQE into `e`, waiting on fd while the ring is empty:
    // 0, or errno of the read (EAGAIN on a non-blocking fd).  fd stays
    // readable while EQEs are pending (see eq.cpp).
    int next(hcasim_eqe& e);
    // Under mu: an EQE at ci (owner bit); resets fd's count, leaving one
    // if an EQE is still pending.
    bool pending() const;
    void reset_count();
};

// A completion channel (ibv_create_comp_channel): an event queue whose
// completion events name CQs, found in `cqs`.
struct CompChannel {
    ibv_comp_channel ch;  // first; ch.fd is eq.fd
    EventQueue eq;
    std::mutex mu;  // `cqs`
    std::vector<CqShell*> cqs;
};

// A completion queue (ibv_create_cq / ibv_create_cq_ex): a ring of
// hcasim_cqe the device writes, consumer index `ci` (running count), and
// the QPs that complete here (a CQE's qpn finds its QP, whose SQ tail or
// SRQ free list the CQE advances).
struct CqShell {
    ibv_cq_ex cq;  // first; ibv_cq is a prefix of it
    ContextImpl* c = nullptr;
    std::mutex mu;  // polling, resizing, the QP list
    ProviderBuffer buf;
    Dbrec db;
    ibv_pd* alloc_pd = nullptr;  // parent domain whose allocators made buf/db
    uint32_t cqn = 0;
    uint32_t entries = 0;  // a power of two
    uint32_t ci = 0;
    uint32_t arm_sn = 0;
    bool extended = false;
    CompChannel* channel = nullptr;  // completion events go there
    uint32_t events_reported = 0;    // by ibv_get_cq_event (cq.mutex)
    uint32_t async_reported = 0;     // by ibv_get_async_event (cq.mutex)
    std::vector<QpShell*> qps;
    QpShell* last_qp = nullptr;  // the QP of the last CQE (a lookup cache)
    hcasim_cqe cur{};  // the CQE start_poll/next_poll stand on
};

// One ring of WQEs (SQ or RQ) with a fixed stride.
struct WorkQueue {
    uint8_t* base = nullptr;
    uint32_t entries = 0;   // a power of two
    uint32_t stride = 0;    // bytes, a power of two
    uint32_t max_post = 0;  // WQEs the user may have outstanding
    uint32_t max_gs = 0;    // SGEs per WQE
    uint32_t head = 0;      // WQEs posted (running)
    std::atomic<uint32_t> tail{0};  // WQEs completed (running), advanced by polling
    std::mutex mu;
    uint8_t* wqe(uint32_t n) const { return base + static_cast<size_t>(n & (entries - 1)) * stride; }
};

// A shared receive queue: mlx5's free list of WQEs linked through
// hcasim_recv_wqe.next; posting takes the head, a completion puts the WQE
// back after the tail; head == tail means full.
struct SrqShell {
    ibv_srq srq;  // first
    ContextImpl* c = nullptr;
    std::mutex mu;
    ProviderBuffer buf;
    Dbrec db;
    uint32_t srqn = 0;
    uint32_t entries = 0, stride = 0, max_gs = 0;
    uint32_t head = 0, tail = 0;
    uint32_t counter = 0;  // WQEs posted (running): the doorbell record
    std::atomic<int> qps{0};  // QPs using it (ibv_destroy_srq -> EBUSY)
    uint32_t events_reported = 0;  // by ibv_get_async_event (srq.mutex)
    uint8_t* wqe(uint32_t i) const { return buf.ptr + static_cast<size_t>(i) * stride; }
};

// An address handle: the UD address vector it stands for.
struct AhShell {
    ibv_ah ah;  // first
    hcasim_wqe_ud av{};  // remote_qpn/qkey filled per WQE
    PdShell* pd = nullptr;
};

struct QpShell {
    ibv_qp_ex qpx;  // first; qpx.qp_base is the ibv_qp
    ContextImpl* c = nullptr;
    ProviderBuffer buf;  // RQ at 0, SQ at sq_offset
    Dbrec db;
    Uar uar;
    ibv_pd* alloc_pd = nullptr;  // the PD or parent domain it was created on
    WorkQueue sq, rq;
    uint32_t sq_offset = 0;
    uint32_t max_inline = 0;
    bool sig_all = false;
    bool has_ex = false;  // created with IBV_QP_INIT_ATTR_SEND_OPS_FLAGS
    uint64_t send_ops = 0;  // IBV_QP_EX_WITH_* its type executes (bit n = IBV_WR_* n)
    // ibv_wr_* batch (sq.mu is held from wr_start to wr_complete/abort).
    uint32_t wr_n = 0;
    int wr_err = 0;
    uint8_t* wr_cur = nullptr;
    uint32_t events_reported = 0;  // by ibv_get_async_event (qp.mutex)
    // The access flags and responder depth last given to ibv_modify_qp
    // (mlx5's atomic_rd_en and resp_depth): the device gets the remote
    // access bits these two allow together (qp.cpp).
    unsigned atomic_rd_en = 0;
    uint8_t resp_depth = 0;
    ibv_qp* ibqp() { return &qpx.qp_base; }
};

// ibv_alloc_buf(3): the opaque handle (rdma-core keeps its layout private).
}  // namespace hcasim::verbs
struct ibv_buf {
    ibv_pd* pd;
    void* addr;
    size_t size;
    hcasim::verbs::DmaRegion region;
};
namespace hcasim::verbs {

inline ContextShell* to_ctx(ibv_context* c) {
    return reinterpret_cast<ContextShell*>(verbs_get_ctx(c));
}
inline ContextImpl& impl(ibv_context* c) {
    ContextImpl& im = *to_ctx(c)->impl;
    if (im.pid != ::getpid()) reattach_after_fork(im);
    return im;
}
inline PdShell* to_pd(ibv_pd* p) { return reinterpret_cast<PdShell*>(p); }
inline DmShell* to_dm(ibv_dm* d) { return reinterpret_cast<DmShell*>(d); }
inline TdShell* to_td(ibv_td* t) { return reinterpret_cast<TdShell*>(t); }
inline DmahShell* to_dmah(ibv_dmah* d) { return reinterpret_cast<DmahShell*>(d); }
inline MrShell* to_mr(ibv_mr* m) { return reinterpret_cast<MrShell*>(m); }
inline DeviceShell* to_dev(ibv_device* d) { return reinterpret_cast<DeviceShell*>(d); }
inline CqShell* to_cq(ibv_cq* c) { return reinterpret_cast<CqShell*>(c); }
inline CqShell* to_cq(ibv_cq_ex* c) { return reinterpret_cast<CqShell*>(c); }
inline QpShell* to_qp(ibv_qp* q) { return reinterpret_cast<QpShell*>(q); }
inline QpShell* to_qp(ibv_qp_ex* q) { return reinterpret_cast<QpShell*>(q); }
inline SrqShell* to_srq(ibv_srq* s) { return reinterpret_cast<SrqShell*>(s); }
inline AhShell* to_ah(ibv_ah* a) { return reinterpret_cast<AhShell*>(a); }

// The provider's ops (one table: ops.cpp), each implemented in the file
// of its object.
int query_device_ex(ibv_context* ctx, const ibv_query_device_ex_input* input,
                    ibv_device_attr_ex* attr, size_t attr_size);
int query_port(ibv_context* ctx, uint8_t port_num, ibv_port_attr* attr, size_t attr_size);
// GID `index` of port `port` and its HCASIM_GID_TYPE_*.  0 or EINVAL.
int query_gid(ContextImpl& c, uint32_t port, uint32_t index, ibv_gid& gid, uint32_t& type);
ibv_dm* alloc_dm(ibv_context* ctx, ibv_alloc_dm_attr* attr);
// mlx5dv_alloc_dm(3): MEMIC or one of the SW ICM types.
ibv_dm* alloc_dm_typed(ibv_context* ctx, ibv_alloc_dm_attr* attr, uint32_t type);
int free_dm(ibv_dm* dm);
ibv_mr* reg_dm_mr(ibv_pd* pd, ibv_dm* dm, uint64_t dm_offset, size_t length, unsigned int access);
ibv_mr* reg_mr_ex(ibv_pd* pd, ibv_mr_init_attr* attr);
ibv_dmah* alloc_dmah(ibv_context* ctx, ibv_dmah_init_attr* attr);
int dealloc_dmah(ibv_dmah* dmah);
ibv_td* alloc_td(ibv_context* ctx, ibv_td_init_attr* attr);
int dealloc_td(ibv_td* td);
ibv_pd* alloc_parent_domain(ibv_context* ctx, ibv_parent_domain_init_attr* attr);
void* alloc_buf(ibv_pd* pd, size_t size, ibv_buf** buf);
void free_buf(ibv_buf* buf);
// cq.cpp, poll.cpp
ibv_cq_ex* create_cq_ex(ibv_context* ctx, ibv_cq_init_attr_ex* attr);
int poll_cq(ibv_cq* cq, int n, ibv_wc* wc);
int req_notify_cq(ibv_cq* cq, int solicited_only);
void set_poll_ops(CqShell* cq, uint64_t wc_flags);
// Completion bookkeeping when a QP goes away or back to RESET: its CQEs
// still in `cq` are dropped (SRQ WQEs they name go back to the free list).
void cq_clean(CqShell* cq, uint32_t qpn, SrqShell* srq);
void cq_attach(CqShell* cq, QpShell* qp);
// comp_channel.cpp: a CQ joins / leaves its channel (the refcount rdma-core
// keeps in ibv_comp_channel.refcnt).
void channel_attach(CompChannel* ch, CqShell* cq);
// async_event.cpp: objects async events can name; destroy waits until the
// events reported for an object were acked (as libibverbs does).
template <class T>
void register_obj(ContextImpl& c, std::map<uint32_t, T*> ContextImpl::*table, uint32_t num, T* obj) {
    std::lock_guard lock(c.obj_mu);
    (c.*table)[num] = obj;
}
template <class T>
void unregister_obj(ContextImpl& c, std::map<uint32_t, T*> ContextImpl::*table, uint32_t num) {
    std::lock_guard lock(c.obj_mu);
    (c.*table).erase(num);
}
void wait_acked(pthread_mutex_t* mu, pthread_cond_t* cond, const uint32_t* completed,
                const uint32_t* reported);
// The context's async event queue, when interrupts reach this process.
void open_async_events(ContextImpl& c);
void close_async_events(ContextImpl& c);
void channel_detach(CompChannel* ch, CqShell* cq);
inline CompChannel* to_channel(ibv_comp_channel* c) { return reinterpret_cast<CompChannel*>(c); }
void cq_detach(CqShell* cq, QpShell* qp);
// qp.cpp, post.cpp, qp_ex.cpp
ibv_qp* create_qp_ex(ibv_context* ctx, ibv_qp_init_attr_ex* attr);
int post_send(ibv_qp* qp, ibv_send_wr* wr, ibv_send_wr** bad);
int post_recv(ibv_qp* qp, ibv_recv_wr* wr, ibv_recv_wr** bad);
void set_wr_ops(QpShell* qp);
// srq.cpp
ibv_srq* create_srq_ex(ibv_context* ctx, ibv_srq_init_attr_ex* attr);
int post_srq_recv(ibv_srq* srq, ibv_recv_wr* wr, ibv_recv_wr** bad);
void srq_free_wqe(SrqShell* srq, uint32_t idx);
// unsupported.cpp: memory windows
ibv_mw* alloc_mw(ibv_pd* pd, ibv_mw_type type);
int bind_mw(ibv_qp* qp, ibv_mw* mw, ibv_mw_bind* bind);
int dealloc_mw(ibv_mw* mw);

// Creates an mkey; `extra` are the MTT page addresses that follow the
// fixed input.  Returns 0 or errno.
int create_mkey(ibv_context* ctx, const hcasim_create_mkey_in& in,
                const std::vector<uint64_t>& mtt_pages, uint32_t& mkey);
int destroy_mkey(ibv_context* ctx, uint32_t mkey);
// The MR object for a created mkey; on allocation failure destroys the
// mkey and returns nullptr with errno ENOMEM.
MrShell* new_mr(ibv_pd* pd, void* addr, size_t length, uint32_t mkey);

// Runs a create/modify command whose fixed input `fixed` (with its
// hcasim_queue_buf at `qbuf`) is followed by the page list of `pages`, in
// DMA pages of HCASIM_MTT_PER_PAGE entries (as CREATE_MKEY's MTT).  Fills
// num_mtt_pages.  Returns 0 or errno; `out` gets the output mailbox.
int exec_with_pages(ContextImpl& c, void* fixed, size_t fixed_len, uint32_t* num_mtt_pages,
                    const std::vector<uint64_t>& pages, void* out, size_t out_len);
// exec_with_pages for a command's typed mailboxes: the opcode comes from
// the input's type (abi/hcasim_commands.hpp).
template <class In, class Out>
int run_with_pages(ContextImpl& c, In& in, uint32_t* num_mtt_pages, const std::vector<uint64_t>& pages, Out& out) {
    abi::prepare<In, Out>(in);
    return exec_with_pages(c, &in, sizeof(in), num_mtt_pages, pages, &out, sizeof(out));
}
// The hcasim_queue_buf of a ring and its doorbell record.
hcasim_queue_buf queue_buf(const ProviderBuffer& b, const Dbrec& db);

// Doorbells (abi/hcasim_abi.h "Posting"): after a doorbell record or the
// command producer index was stored, make sure the device looks.  A full
// fence orders the store before reading the device state; an IDLE device
// gets the UAR index written to BAR0 WAKE.
inline void wake_device(Transport& t, const volatile hcasim_status_page* status, uint32_t uar) {
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (!status || status->device_state == HCASIM_DEVSTATE_IDLE) t.write32(HCASIM_REG_WAKE, uar);
}
inline void ring_doorbell(ContextImpl& c, const Uar& u) {
    if (u.page) __atomic_fetch_add(&u.page->kick, 1u, __ATOMIC_RELEASE);
    wake_device(*c.transport, c.status, u.index);
}
inline void store_le32(uint32_t* p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

// Fills the context's op table (verbs_context and the legacy
// ibv_context_ops the inline data-path verbs call).
void fill_ops(verbs_context& v);

// WQE/CQE counters are 16 bits on the wire: the running count that
// `counter` (the last completed index) brings `tail` to.
inline uint32_t advance16(uint32_t tail, uint16_t counter) {
    return tail + static_cast<uint16_t>(counter + 1 - static_cast<uint16_t>(tail));
}

}  // namespace hcasim::verbs
