// Names of the responder's and completer's stages, for the trace.
#include "device/role_stages.h"

#include <array>
#include <cstddef>

namespace hcasim::device {

namespace {

constexpr std::array kRespNames = {
    "check_header", "check_psn", "check_op_seq", "check_op_valid", "check_rkey", "check_resource",
    "check_length", "execute", "read_reply", "atomic_reply", "complete", "acknowledge", "done",
    "psn_ahead", "duplicate", "drop", "err_op_seq", "err_misaligned", "err_rkey", "err_rnr",
    "err_malformed_wqe", "err_recv_queue", "err_length", "err_scatter",
};
static_assert(kRespNames.size() == static_cast<size_t>(RespStage::ErrScatter) + 1);

constexpr std::array kCompNames = {
    "check_state", "retire_acked", "check_nak", "rnr_nak", "seq_nak", "check_psn", "read",
    "atomic", "update_comp", "done", "drop", "hold", "err_nak", "err_retry", "err_rnr_retry",
    "err_local",
};
static_assert(kCompNames.size() == static_cast<size_t>(CompStage::ErrLocal) + 1);

}  // namespace

const char* stage_name(RespStage s) { return kRespNames[static_cast<size_t>(s)]; }
const char* stage_name(CompStage s) { return kCompNames[static_cast<size_t>(s)]; }

}  // namespace hcasim::device
