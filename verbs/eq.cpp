// Device event queues (CREATE_EQ / DESTROY_EQ, abi/hcasim_abi.h "EQE"):
// the EQ's ring and doorbell record in the library's DMA memory, an MSI-X
// vector of its own (Transport::alloc_irq) that the device signals through
// an eventfd in semaphore mode after each EQE.  Taking an event reads one
// count, then the EQE at ci (owner bit rule), then stores ci in the
// doorbell record.
#include "verbs/provider.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

namespace hcasim::verbs {

namespace {

constexpr uint32_t kLogEqSize = 12;  // 4096 events before the EQ overflows

}  // namespace

int EventQueue::open(ContextImpl& ctx) {
    c = &ctx;
    entries = 1u << kLogEqSize;
    fd = ::eventfd(0, EFD_CLOEXEC | EFD_SEMAPHORE);
    if (fd < 0) return errno;
    int e = c->transport->alloc_irq(fd, vector);
    has_irq = !e;
    if (!e) e = provider_buffer_alloc(*c, nullptr, entries * sizeof(hcasim_eqe), 4096, 0, ring);
    if (!e) e = dbrec_alloc(*c, nullptr, db);
    hcasim_create_eq_out out{};
    if (!e) {
        hcasim_create_eq_in in{};
        in.hdr.opcode = HCASIM_CMD_CREATE_EQ;
        in.log_size = kLogEqSize;
        in.msix_vector = vector;
        in.buf = queue_buf(ring, db);
        e = exec_with_pages(*c, &in, sizeof(in), &in.buf.num_mtt_pages, ring.pages, &out,
                            sizeof(out));
    }
    if (e) {
        eqn = 0;
        close();
        return e;
    }
    eqn = out.eqn;
    return 0;
}

int EventQueue::close() {
    if (eqn) {
        hcasim_destroy_eq_in in{};
        in.hdr.opcode = HCASIM_CMD_DESTROY_EQ;
        in.eqn = eqn;
        hcasim_destroy_eq_out out{};
        if (int e = c->cmd->run(in, out)) return e;
        eqn = 0;
    }
    if (has_irq) c->transport->free_irq(vector);
    has_irq = false;
    dbrec_free(*c, nullptr, db);
    provider_buffer_free(*c, nullptr, ring);
    if (fd >= 0) ::close(fd);
    fd = -1;
    return 0;
}

int EventQueue::next(hcasim_eqe& e) {
    uint64_t n = 0;
    if (::read(fd, &n, sizeof(n)) != sizeof(n)) return errno;
    std::lock_guard lock(mu);
    auto* slot = reinterpret_cast<volatile hcasim_eqe*>(ring.ptr) + (ci & (entries - 1));
    if ((slot->owner & 1u) != (((ci / entries) & 1u) ^ 1u)) {
        e = {};
        e.type = 0xff;
        return 0;
    }
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    e.type = slot->type;
    e.ibv_event = slot->ibv_event;
    e.obj = slot->obj;
    e.seq = slot->seq;
    store_le32(&db.va[0], ++ci);
    return 0;
}

}  // namespace hcasim::verbs
