// The values device/qp.h and abi/hcasim_abi.h copy from rdma-core (QP
// states and types, attribute-mask bits, work request and completion
// opcodes, completion statuses, async event types, access flags) checked
// against rdma-core's own <infiniband/verbs.h> at compile time: a wrong
// copy does not build.
#include "abi/hcasim_abi.h"
#include "device/qp.h"

#include <doctest/doctest.h>
#include <infiniband/verbs.h>

namespace d = hcasim::device;

// IBV_QPS_* and IBV_QPT_*
static_assert(d::qps::kReset == IBV_QPS_RESET && d::qps::kInit == IBV_QPS_INIT && d::qps::kRtr == IBV_QPS_RTR &&
              d::qps::kRts == IBV_QPS_RTS && d::qps::kSqd == IBV_QPS_SQD && d::qps::kSqe == IBV_QPS_SQE &&
              d::qps::kErr == IBV_QPS_ERR);
static_assert(d::qpt::kRc == IBV_QPT_RC && d::qpt::kUc == IBV_QPT_UC && d::qpt::kUd == IBV_QPT_UD);
// IBV_QP_* attribute mask
static_assert(d::qpa::kState == IBV_QP_STATE && d::qpa::kCurState == IBV_QP_CUR_STATE &&
              d::qpa::kEnSqdAsyncNotify == IBV_QP_EN_SQD_ASYNC_NOTIFY && d::qpa::kAccessFlags == IBV_QP_ACCESS_FLAGS &&
              d::qpa::kPkeyIndex == IBV_QP_PKEY_INDEX && d::qpa::kPort == IBV_QP_PORT && d::qpa::kQkey == IBV_QP_QKEY &&
              d::qpa::kAv == IBV_QP_AV && d::qpa::kPathMtu == IBV_QP_PATH_MTU && d::qpa::kTimeout == IBV_QP_TIMEOUT &&
              d::qpa::kRetryCnt == IBV_QP_RETRY_CNT && d::qpa::kRnrRetry == IBV_QP_RNR_RETRY &&
              d::qpa::kRqPsn == IBV_QP_RQ_PSN && d::qpa::kMaxQpRdAtomic == IBV_QP_MAX_QP_RD_ATOMIC &&
              d::qpa::kAltPath == IBV_QP_ALT_PATH && d::qpa::kMinRnrTimer == IBV_QP_MIN_RNR_TIMER &&
              d::qpa::kSqPsn == IBV_QP_SQ_PSN && d::qpa::kMaxDestRdAtomic == IBV_QP_MAX_DEST_RD_ATOMIC &&
              d::qpa::kPathMigState == IBV_QP_PATH_MIG_STATE && d::qpa::kCap == IBV_QP_CAP &&
              d::qpa::kDestQpn == IBV_QP_DEST_QPN && d::qpa::kRateLimit == IBV_QP_RATE_LIMIT);
// enum ibv_wc_status
static_assert(d::wc::kSuccess == IBV_WC_SUCCESS && d::wc::kLocLenErr == IBV_WC_LOC_LEN_ERR &&
              d::wc::kLocQpOpErr == IBV_WC_LOC_QP_OP_ERR && d::wc::kLocEecOpErr == IBV_WC_LOC_EEC_OP_ERR &&
              d::wc::kLocProtErr == IBV_WC_LOC_PROT_ERR && d::wc::kWrFlushErr == IBV_WC_WR_FLUSH_ERR &&
              d::wc::kMwBindErr == IBV_WC_MW_BIND_ERR && d::wc::kBadRespErr == IBV_WC_BAD_RESP_ERR &&
              d::wc::kLocAccessErr == IBV_WC_LOC_ACCESS_ERR && d::wc::kRemInvReqErr == IBV_WC_REM_INV_REQ_ERR &&
              d::wc::kRemAccessErr == IBV_WC_REM_ACCESS_ERR && d::wc::kRemOpErr == IBV_WC_REM_OP_ERR &&
              d::wc::kRetryExcErr == IBV_WC_RETRY_EXC_ERR && d::wc::kRnrRetryExcErr == IBV_WC_RNR_RETRY_EXC_ERR &&
              d::wc::kFatalErr == IBV_WC_FATAL_ERR && d::wc::kGeneralErr == IBV_WC_GENERAL_ERR);
// enum ibv_wc_opcode and enum ibv_wr_opcode
static_assert(d::wc::kOpSend == IBV_WC_SEND && d::wc::kOpRdmaWrite == IBV_WC_RDMA_WRITE &&
              d::wc::kOpRdmaRead == IBV_WC_RDMA_READ && d::wc::kOpCompSwap == IBV_WC_COMP_SWAP &&
              d::wc::kOpFetchAdd == IBV_WC_FETCH_ADD && d::wc::kOpRecv == IBV_WC_RECV &&
              d::wc::kOpRecvRdmaWithImm == IBV_WC_RECV_RDMA_WITH_IMM);
static_assert(d::wr::kRdmaWrite == IBV_WR_RDMA_WRITE && d::wr::kRdmaWriteImm == IBV_WR_RDMA_WRITE_WITH_IMM &&
              d::wr::kSend == IBV_WR_SEND && d::wr::kSendImm == IBV_WR_SEND_WITH_IMM &&
              d::wr::kRdmaRead == IBV_WR_RDMA_READ && d::wr::kCompSwap == IBV_WR_ATOMIC_CMP_AND_SWP &&
              d::wr::kFetchAdd == IBV_WR_ATOMIC_FETCH_AND_ADD);
// enum ibv_event_type (ev::kNone is hcasim's own "no event")
static_assert(d::ev::kCqErr == IBV_EVENT_CQ_ERR && d::ev::kQpFatal == IBV_EVENT_QP_FATAL &&
              d::ev::kQpReqErr == IBV_EVENT_QP_REQ_ERR && d::ev::kQpAccessErr == IBV_EVENT_QP_ACCESS_ERR &&
              d::ev::kCommEst == IBV_EVENT_COMM_EST && d::ev::kSqDrained == IBV_EVENT_SQ_DRAINED &&
              d::ev::kPortActive == IBV_EVENT_PORT_ACTIVE && d::ev::kPortErr == IBV_EVENT_PORT_ERR &&
              d::ev::kSrqErr == IBV_EVENT_SRQ_ERR && d::ev::kSrqLimitReached == IBV_EVENT_SRQ_LIMIT_REACHED &&
              d::ev::kQpLastWqeReached == IBV_EVENT_QP_LAST_WQE_REACHED);
// enum ibv_access_flags (the ABI's copies)
static_assert(HCASIM_ACCESS_LOCAL_WRITE == IBV_ACCESS_LOCAL_WRITE &&
              HCASIM_ACCESS_REMOTE_WRITE == IBV_ACCESS_REMOTE_WRITE &&
              HCASIM_ACCESS_REMOTE_READ == IBV_ACCESS_REMOTE_READ &&
              HCASIM_ACCESS_REMOTE_ATOMIC == IBV_ACCESS_REMOTE_ATOMIC &&
              HCASIM_ACCESS_ZERO_BASED == IBV_ACCESS_ZERO_BASED);

TEST_CASE("rdma-core values: the copies match <infiniband/verbs.h> (checked when this file compiles)") {
    CHECK(d::wc::kFatalErr == IBV_WC_FATAL_ERR);
}
