// Trace: one record per firmware command (opcode, inputs, status,
// syndrome, latency) and per notable device event, to a file or stderr
// ("-").  Every event is declared once, with typed fields, in the
// catalogue (common/trace_events.h); call it as
// hcasim::trace::<event>(tracer, fields...).  Nothing is formatted when
// tracing is off.
//
// Two formats:
//   text  "<seconds since start> <event> key=value ...", one line each
//         (QEMU's trace-events style);
//   json  the Trace Event Format (a JSON array of events with name, cat,
//         ph, ts in µs, pid, tid and args) that Perfetto and
//         chrome://tracing open.  Each QP, CQ, EQ, SRQ and command
//         channel is its own track (tid), named by a metadata event;
//         fw_cmd spans its latency ("ph":"X"), the rest are instants.
#pragma once

#include "common/trace_events.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <unordered_set>

namespace hcasim {

class Tracer {
public:
    enum class Format { Text, Json };

    Tracer() = default;
    ~Tracer();
    Tracer(const Tracer&) = delete;
    Tracer& operator=(const Tracer&) = delete;

    // path: a file (created/truncated), "-" for stderr, "" for no trace.
    // Returns false (and traces nothing) if the file cannot be opened.
    bool open(const std::string& path, Format format = Format::Text);
    bool enabled() const { return out_ != nullptr; }
    // Ends the trace (the JSON array is closed); also done on destruction.
    void close();

    // One event being written; the catalogue's functions fill it field by
    // field (the methods are the field kinds of common/trace_events.h).
    class Record {
    public:
        void H(std::string_view key, uint64_t v);
        void U(std::string_view key, uint64_t v);
        void I(std::string_view key, int64_t v);
        void X(std::string_view key, uint64_t v);
        void S(std::string_view key, std::string_view v);
        void F(std::string_view key, double v);
        void K(std::string_view key, std::string_view v);

    private:
        friend class Tracer;
        Record(std::string_view name, std::string_view section, bool json)
            : name_(name), section_(section), json_(json) {}
        void key(std::string_view k);
        void track(std::string_view key, uint64_t v);
        std::string_view name_, section_;
        bool json_;
        fmt::memory_buffer text_, args_;
        int track_rank_ = 0;   // the field that names the track (qpn first)
        uint64_t tid_ = 0;
        double dur_us_ = -1;   // latency_us: the event spans this long
    };
    Record begin(std::string_view name, std::string_view section) { return {name, section, format_ == Format::Json}; }
    void commit(Record& r);

private:
    std::FILE* out_ = nullptr;
    bool owned_ = false;
    Format format_ = Format::Text;
    int pid_ = 0;
    std::unordered_set<uint64_t> named_tracks_;
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// ---- the catalogue's functions ----------------------------------------------
namespace trace {
namespace kind {
using H = uint64_t;
using U = uint64_t;
using I = int64_t;
using X = uint64_t;
using S = std::string_view;
using F = double;
using K = std::string_view;
}  // namespace kind

// Walks a field sequence (k, n)(k, n)... (Boost.PP's sequence trick):
// parameters, then one Record call per field.
// (the last token of the expanded walk, HCASIM_TRACE_?_A or _B, pasted
// with _END, which expands to nothing)
#define HCASIM_TRACE_END_(...) __VA_ARGS__##_END
#define HCASIM_TRACE_END(...) HCASIM_TRACE_END_(__VA_ARGS__)
#define HCASIM_TRACE_P_A(k, n) , ::hcasim::trace::kind::k n HCASIM_TRACE_P_B
#define HCASIM_TRACE_P_B(k, n) , ::hcasim::trace::kind::k n HCASIM_TRACE_P_A
#define HCASIM_TRACE_P_A_END
#define HCASIM_TRACE_P_B_END
#define HCASIM_TRACE_W_A(k, n) r.k(#n, n); HCASIM_TRACE_W_B
#define HCASIM_TRACE_W_B(k, n) r.k(#n, n); HCASIM_TRACE_W_A
#define HCASIM_TRACE_W_A_END
#define HCASIM_TRACE_W_B_END
#define HCASIM_TRACE_DEFINE(name, section, when, fields)                              \
    inline void name(::hcasim::Tracer& t HCASIM_TRACE_END(HCASIM_TRACE_P_A fields)) { \
        if (!t.enabled()) return;                                                     \
        ::hcasim::Tracer::Record r = t.begin(#name, #section);                        \
        HCASIM_TRACE_END(HCASIM_TRACE_W_A fields)                               \
        t.commit(r);                                                                  \
    }
HCASIM_TRACE_EVENTS(HCASIM_TRACE_DEFINE)
#undef HCASIM_TRACE_DEFINE

}  // namespace trace
}  // namespace hcasim
