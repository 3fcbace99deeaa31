// The ConnectX-5 model's Ethernet-side objects as its PRM firmware makes
// them: protection domains, transport domains, mkeys, CQs, SQs, RQs, TISes,
// TIRs, RQTs and queue counters. Each keeps the PRM context the driver gave
// (the bytes of mkc, cqc, sqc, rqc, tisc, tirc or rqtc, updated by MODIFY_*
// and returned by QUERY_*) and what the device decoded from it: the queue's
// ring, the objects it refers to and its state.
//
// Handles are ObjectTable's (index << 8 | generation: 24 bits, as mlx5's
// PDNs, CQNs, SQNs, RQNs, TIRNs and mkey indexes are). An object that others
// use (an SQ's CQ, a TIR's RQT) cannot be destroyed: BAD_RES_STATE_ERR, as
// on hardware. Queue counter ids are 8 bits (counter_set_id), so they come
// from a small index allocator instead.
//
// Source: mlx5 PRM "Work Queues", "Completion Queues", "TIR", "TIS", "RQT";
// mlx5_ifc.h's contexts (prm/prm_layouts.h).
#pragma once

#include "device/object_table.h"
#include "device/queue_ring.h"

#include <bitset>
#include <cstdint>
#include <optional>
#include <vector>

namespace hcasim::device {

struct PrmPd {};
struct PrmTd {};

struct PrmMkey {
    std::vector<std::uint8_t> mkc;  // ifc::mkc
    std::uint32_t pd = 0;
};

struct PrmCq {
    std::vector<std::uint8_t> cqc;  // ifc::cqc
    std::uint32_t log_size = 0;
    std::uint32_t eqn = 0;          // completion EQ (cqc.c_eqn_or_apu_element)
    std::uint32_t uar = 0;          // the page of its arm doorbell
    QueueRing ring;                 // the CQE buffer and its doorbell record
    std::uint32_t pi = 0;           // CQEs written
    std::uint64_t overruns = 0;
};

/// An SQ or an RQ: the PRM's work queues, both with a wq context inside.
struct PrmWq {
    std::vector<std::uint8_t> ctx;  // ifc::sqc or ifc::rqc
    std::uint32_t state = 0;        // RST 0, RDY 1, ERR 3 (sqc/rqc state)
    std::uint32_t cqn = 0;
    std::uint32_t tisn = 0;         // SQ only: its TIS
    std::uint32_t log_size = 0;     // 2^log_wq_sz WQEs
    std::uint32_t log_stride = 0;   // bytes per WQE (RQ) or WQEBB (SQ, 64)
    QueueRing ring;                 // the WQE buffer and its doorbell record
};

struct PrmTis {
    std::vector<std::uint8_t> ctx;  // ifc::tisc
    std::uint32_t tdn = 0;
};

struct PrmRqt {
    std::vector<std::uint8_t> ctx;  // ifc::rqtc, rq_num[] included
    std::vector<std::uint32_t> rqns;
};

struct PrmTir {
    std::vector<std::uint8_t> ctx;  // ifc::tirc
    std::uint32_t tdn = 0;
    std::uint32_t inline_rqn = 0;   // disp_type DIRECT
    std::uint32_t rqtn = 0;         // disp_type INDIRECT
};

/// Queue counters (ALLOC_Q_COUNTER): ids 1..kMax, 8 bits.
class PrmQCounters {
public:
    static constexpr std::uint32_t kMax = 255;
    std::optional<std::uint32_t> alloc();
    bool free(std::uint32_t id);
    bool allocated(std::uint32_t id) const { return id >= 1 && id <= kMax && used_.test(id); }
    std::uint32_t count() const { return static_cast<std::uint32_t>(used_.count()); }
    void reset() { used_.reset(); }

private:
    std::bitset<kMax + 1> used_;
};

/// The object tables, one per type.
struct PrmObjects {
    ObjectTable<PrmPd> pds{"pd", 1u << 16};
    ObjectTable<PrmTd> tds{"transport_domain", 1u << 10};
    ObjectTable<PrmMkey> mkeys{"mkey", 1u << 16};
    ObjectTable<PrmCq> cqs{"cq", 1u << 16};
    ObjectTable<PrmWq> sqs{"sq", 1u << 10};
    ObjectTable<PrmWq> rqs{"rq", 1u << 10};
    ObjectTable<PrmTis> tises{"tis", 1u << 10};
    ObjectTable<PrmRqt> rqts{"rqt", 1u << 10};
    ObjectTable<PrmTir> tirs{"tir", 1u << 10};
    PrmQCounters q_counters;

    /// The references each object takes, dropped as it leaves its table.
    PrmObjects();
    /// Every object gone (device reset).
    void reset();
    /// Live objects of all types (inspection: none after rmmod).
    std::uint32_t live() const;
};

}  // namespace hcasim::device
