// The trace catalogue: every event the device traces, declared once, with
// its section, its typed fields and what it means, as QEMU keeps
// hw/nvme/trace-events.  From this list the build makes one function per
// event, hcasim::trace::<event>(Tracer&, fields...), which does nothing
// (formats nothing) when tracing is off; docs/device.md's event table is
// checked against it (tests/check_trace_docs.py).
//
// Field kinds (how a value prints, in the text trace and in the Trace
// Event Format's "args"):
//   H  a handle (QPN, CQN, EQN, SRQN, mkey, owner): always hexadecimal
//   U  an unsigned count, index, PSN or size: decimal
//   I  a signed value (errno, a signal): decimal
//   X  an address, offset, value or syndrome: hexadecimal
//   S  a name or a reason (states, opcodes and statuses by name): quoted
//      when it holds a space
//   F  a duration in µs; an event with `latency_us` spans that time on
//      the timeline
//   K  key=value text made by a command handler (only when tracing is on)
// A field name ending in "_" (errno_) prints without it.
//
// Sections: command, memory, port, vfio-user, wire, device, engine,
// datapath (only with --trace-datapath), and error: everything that reports
// bad input or a fault.
#pragma once

// EV(name, section, "when", fields) with fields a sequence (kind, name)(kind, name)...
#define HCASIM_TRACE_EVENTS(EV)                                                                        \
    /* ---- command channels and firmware ---- */                                                       \
    EV(channel_claim, command, "a command channel claimed by a process", (U, ch) (H, owner))          \
    EV(channel_release, command, "a command channel released (its objects reclaimed)",                  \
       (U, ch) (H, owner))                                                                            \
    EV(fw_cmd, command,                                                                                 \
       "every firmware command: its inputs, status, syndrome and latency (DEALLOC_MEMIC: the block's "  \
       "first 16 bytes as the device reads them)",                                                      \
       (U, ch) (S, op) (U, op_mod) (K, detail) (S, status) (X, syndrome) (F, latency_us))        \
    EV(prm_cmd_delivery, command,                                                                       \
       "ConnectX-5 model: a command entry or mailbox chain the device refused (delivery status)",       \
       (U, slot) (S, delivery) (S, reason) (S, handed_back))                                          \
    EV(fw_reclaim, command, "a released channel's objects destroyed, counted by kind",                  \
       (U, ch) (U, pds) (U, memic_blocks) (U, mkeys) (U, dmahs) (U, icm_blocks))                  \
    EV(fw_reset, command, "device reset: every object destroyed", )                                     \
    /* ---- device memory ---- */                                                                        \
    EV(memic_op, memory, "a MEMIC operation window access (atomic on device memory)",                   \
       (U, op) (X, pool_offset) (U, size) (X, old))                                                 \
    EV(mr_write, memory, "an inspection-socket DMA write through an mkey",                              \
       (H, key) (X, addr) (U, len) (S, result) (S, tph))                                           \
    /* ---- the port ---- */                                                                             \
    EV(port, port, "the port's configuration and counters (JSON), at exit", (K, counters))             \
    EV(port_state, port, "port 1 went ACTIVE or DOWN", (U, port) (S, state))                          \
    /* ---- vfio-user ---- */                                                                            \
    EV(vfu_connect, vfio-user, "a client connected", (I, fd))                                          \
    EV(vfu_device_reset, vfio-user, "DEVICE_RESET", )                                                   \
    EV(vfu_disconnect, vfio-user, "the client went away: its DMA maps dropped, device state kept",      \
       (S, reason) (U, dma_maps_dropped))                                                             \
    EV(vfu_dma_map, vfio-user, "DMA_MAP (errno 0: mapped)",                                             \
       (X, addr) (X, size) (U, flags) (S, fd) (X, offset) (I, errno_))                             \
    EV(vfu_dma_unmap, vfio-user, "DMA_UNMAP", (X, addr) (X, size) (U, flags) (I, errno_))            \
    EV(vfu_listen, vfio-user, "the server listens", (S, socket))                                       \
    EV(vfu_reject, vfio-user, "a second client while one is connected", (S, reason))                   \
    EV(vfu_set_irqs, vfio-user, "SET_IRQS (MSI-X eventfds)",                                            \
       (U, index) (X, flags) (U, start) (U, count) (U, fds) (I, errno_))                           \
    EV(vfu_version, vfio-user, "version negotiated", (U, major) (U, minor))                           \
    /* ---- the wire ---- */                                                                             \
    EV(wire_drop, wire, "a received frame dropped, by reason (never reaches a QP)",                     \
       (S, reason) (S, detail))                                                                       \
    EV(wire_link, wire, "the link went up or down", (S, state))                                        \
    EV(wire_port, wire, "port 1 put on a wire (--port)", (S, url) (S, pcap) (S, faults))             \
    /* ---- the device process ---- */                                                                   \
    EV(device_exit, device, "the device exits (on a signal)", (I, signal))                             \
    EV(device_loop, device, "the device loop's counters, at exit",                                      \
       (U, scans) (U, naps) (U, contended) (U, idle_sleeps))                                        \
    /* ---- the engine ---- */                                                                           \
    EV(qp_state, engine, "a QP changed state (by command or a fault)",                                  \
       (H, qpn) (S, from) (S, to) (S, reason))                                                      \
    /* ---- the data path (--trace-datapath) ---- */                                                     \
    EV(comp_stage, datapath, "the completer stage that took a packet off the normal path, and where to", \
       (H, qpn) (S, opcode) (U, psn) (S, stage) (S, next))                                         \
    EV(cqe, datapath, "a CQE written: status, opcode, length",                                          \
       (H, cqn) (H, qpn) (X, wr_id) (S, opcode) (S, status) (U, byte_len) (U, wqe)               \
           (X, vendor_err))                                                                            \
    EV(eqe, datapath, "an EQE written", (H, eqn) (S, type) (S, event) (H, obj))                     \
    EV(nak, datapath, "a NAK sent (syndrome: RNR, sequence, access, ...)",                              \
       (H, qpn) (U, psn) (X, syndrome))                                                              \
    EV(resp_stage, datapath,                                                                            \
       "the responder stage that took a packet off the normal path, and where to (docs/datapath.md)",   \
       (H, qpn) (S, opcode) (U, psn) (S, stage) (S, next))                                         \
    EV(retry, datapath, "the requester goes back to a PSN (timeout, NAK, READ gap)",                    \
       (H, qpn) (U, psn) (U, wqe))                                                                   \
    EV(rx_drop, datapath, "a received packet dropped, with the reason",                                 \
       (H, qpn) (S, opcode) (U, psn) (S, reason))                                                   \
    EV(wqe, datapath, "a send WQE taken: its PSNs, length and flags",                                   \
       (H, qpn) (U, wqe) (X, wr_id) (S, opcode) (U, first_psn) (U, last_psn) (U, length)         \
           (S, flags))                                                                                 \
    /* ---- errors: bad input and faults ---- */                                                        \
    EV(bar0_write_ignored, error, "a write to a read-only or unknown BAR0 register",                    \
       (X, offset) (X, value))                                                                        \
    EV(cmdq_delivery_error, error,                                                                      \
       "a command entry whose pointers or lengths are bad: delivery status set",                        \
       (U, ch) (U, entry) (X, delivery_status) (X, in_ptr) (X, out_ptr) (U, in_len) (U, out_len)) \
    EV(cmdq_dma_fault, error, "a command queue entry or mailbox outside guest memory",                  \
       (U, ch) (U, entry) (X, addr) (I, errno_))                                                     \
    EV(cmdq_spurious_doorbell, error, "a command doorbell with no entry ready", (U, ch) (U, entry))   \
    EV(cq_dma_fault, error, "a CQE write outside guest memory", (H, cqn) (U, pi))                     \
    EV(cq_error, error, "a CQ that overran or faulted: IBV_EVENT_CQ_ERR", (H, cqn) (S, reason))       \
    EV(cq_overflow, error, "a CQE with no room in the CQ", (H, cqn) (U, pi) (U, ci) (U, entries))   \
    EV(doorbell_beyond_ring, error, "a command doorbell more than a ring ahead: ignored",                \
       (U, ch) (U, cmd_pi) (U, ci))                                                                  \
    EV(doorbell_ignored, error, "a doorbell while bus mastering is off or the channel is not set up",   \
       (U, ch) (S, reason))                                                                           \
    EV(eq_overflow, error, "an EQE with no room in the EQ", (H, eqn) (S, type) (S, event) (H, obj)) \
    EV(memic_op_ignored, error, "a MEMIC operation window access the device refuses",                   \
       (X, bar2_offset) (U, op) (S, access))                                                         \
    EV(retry_exceeded, error, "retry_cnt + 1 tries without progress: IBV_WC_RETRY_EXC_ERR",             \
       (H, qpn) (U, wqe) (U, psn))                                                                   \
    EV(rnr_retry_exceeded, error, "rnr_retry used up: IBV_WC_RNR_RETRY_EXC_ERR",                        \
       (H, qpn) (U, wqe) (U, psn))                                                                   \
    EV(rq_bad_doorbell, error, "an RQ doorbell record beyond the ring: QP fatal",                       \
       (H, qpn) (U, rq_pi) (U, ci) (U, entries))                                                    \
    EV(srq_error, error, "an SRQ whose doorbell or ring is unusable: IBV_EVENT_SRQ_ERR",                \
       (H, srqn) (S, reason))                                                                         \
    EV(vfu_bad_access, error, "a region access outside a region",                                       \
       (S, access) (U, region) (X, offset) (U, count))                                              \
    EV(vfu_bad_request, error, "a request the server answers with an error",                            \
       (S, cmd) (U, size) (I, errno_) (S, reason))                                                   \
    EV(vfu_dma_error, error, "a DMA message from the server failed", (S, cmd) (U, msg_id) (S, reason)) \
    EV(vfu_malformed, error, "a header that cannot be trusted: the client is dropped",                  \
       (I, errno_) (U, size) (U, command))                                                            \
    EV(vfu_send_queue_full, error, "a client that does not read its replies: dropped",                  \
       (U, bytes) (U, messages))                                                                      \
    EV(vfu_stalled, error, "a client stuck mid-message for --client-stall-ms: dropped", (U, ms))       \
    EV(vfu_unexpected_reply, error, "a reply to no request of the server's", (U, msg_id))              \
    EV(wqe_bad, error, "a malformed send WQE: it completes in error, the QP goes to ERR",               \
       (H, qpn) (U, wqe) (S, opcode) (S, reason))                                                   \
    EV(wqe_bad_doorbell, error, "an SQ doorbell record beyond the ring: QP fatal",                      \
       (H, qpn) (U, sq_pi) (U, head) (U, entries))                                                  \
    EV(wqe_lkey_fault, error, "a send WQE's SGE fails its lkey, PD, access or bounds check",            \
       (H, qpn) (U, wqe) (S, reason))
