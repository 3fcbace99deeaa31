// The stages of the responder and the completer, as rxe names them
// (rxe_resp.c's enum resp_states, rxe_comp.c's enum comp_state): each
// received packet runs through a sequence of small checks, each of which
// returns the next stage.  Errors are stages too, so the trace can name
// the stage that decided a packet's fate (event "resp_stage" and
// "comp_stage", docs/device.md).
//
// One difference from rxe's order: the rkey of a READ or a first WRITE is
// checked before a receive WQE is taken, so a WRITE with immediate that
// fails its rkey check consumes no receive WQE.
//
// Source: IBTA vol 1 9.7.4 (responder), 9.7.5.2 (requester side of
// ACK/NAK); the kernel's rxe_resp.c and rxe_comp.c.
#pragma once

#include <cstdint>

namespace hcasim::device {

enum class RespStage : uint8_t {
    // The normal path, in order.
    CheckHeader,    // QP state, transport, payload against the path MTU
    CheckPsn,       // in order, ahead of a gap, or a duplicate; UC gaps
    CheckOpSeq,     // first/middle/last against the message in progress
    CheckOpValid,   // QKey (UD), QP access flags, atomic alignment
    CheckRkey,      // rkey, PD, access and bounds of a READ or a first WRITE
    CheckResource,  // the receive WQE (own RQ or SRQ) a SEND or immediate needs
    CheckLength,    // payload against the receive WQE or the WRITE's length
    Execute,        // the data moves: scatter, WRITE, atomic, READ resource
    ReadReply,      // READ responses from the RETH
    AtomicReply,    // the atomic ACK
    Complete,       // a message's end: the receive CQE
    Acknowledge,    // an ACK when the request asked for one (AckReq)
    Done,
    // Decisions other than the normal path.
    PsnAhead,       // held for a moment (reordering) or sequence NAK'd
    Duplicate,      // answered again from responder resources or memory
    Drop,           // silently dropped, counted (RespCtx::why says why)
    ErrOpSeq,       // opcode out of sequence: NAK invalid request (UC: drop)
    ErrMisaligned,  // atomic not 8-byte aligned: NAK invalid request
    ErrRkey,        // rkey, PD, access or bounds: NAK remote access
    ErrRnr,         // no receive WQE: RNR NAK (UC, UD: drop)
    ErrMalformedWqe,  // the receive WQE is malformed: NAK remote operation
    ErrRecvQueue,   // the receive queue is unusable: QP fatal
    ErrLength,      // longer than the receive WQE or the WRITE: NAK invalid request
    ErrScatter,     // the receive WQE's SGEs fault: NAK remote operation
};

enum class CompStage : uint8_t {
    CheckState,     // RC, in RTS or SQD, something outstanding
    RetireAcked,    // SEND/WRITE WQEs the response acknowledges (also implied)
    CheckNak,       // a NAK: for a PSN still outstanding?
    RnrNak,         // wait the RNR timer, charged to the RNR counter
    SeqNak,         // go back to the NAK'd PSN, charged to the retry counter
    CheckPsn,       // a READ response or atomic ACK: the one expected next?
    Read,           // READ response data lands in the local SGEs
    Atomic,         // the original value lands in the local SGE
    UpdateComp,     // progress: counters, ACK timer, the requester resumes
    Done,
    Drop,           // silently dropped, counted (CompCtx::why says why)
    Hold,           // ahead of a missing response: held a moment
    ErrNak,         // class B/C/D NAK: the WQE fails with its status
    ErrRetry,       // retry_cnt used up: IBV_WC_RETRY_EXC_ERR
    ErrRnrRetry,    // rnr_retry used up: IBV_WC_RNR_RETRY_EXC_ERR
    ErrLocal,       // the local SGE faults: IBV_WC_LOC_PROT_ERR
};

// Lower-case names for the trace ("check_psn", "err_rkey", ...).
const char* stage_name(RespStage s);
const char* stage_name(CompStage s);
// True for every stage that leaves the normal path.
constexpr bool off_path(RespStage s) { return s > RespStage::Done; }
constexpr bool off_path(CompStage s) { return s > CompStage::Done; }

}  // namespace hcasim::device
