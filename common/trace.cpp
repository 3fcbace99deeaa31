// Trace output (see trace.h).
#include "common/trace.h"

#include <unistd.h>

namespace hcasim {

namespace {

// A JSON string's body: quotes, backslashes and control bytes escaped.
void json_escape(fmt::memory_buffer& out, std::string_view s) {
    for (const char c : s) {
        switch (c) {
        case '"': fmt::format_to(std::back_inserter(out), "\\\""); break;
        case '\\': fmt::format_to(std::back_inserter(out), "\\\\"); break;
        case '\n': fmt::format_to(std::back_inserter(out), "\\n"); break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
            else out.push_back(c);
        }
    }
}

bool needs_quotes(std::string_view s) {
    return s.empty() || s.find_first_of(" \"=") != std::string_view::npos;
}

// Tracks: each object's events on a line of their own.
constexpr uint64_t kChannelTrack = 1ull << 32, kCqTrack = 2ull << 32, kEqTrack = 3ull << 32,
                   kSrqTrack = 4ull << 32;

std::string track_name(uint64_t tid) {
    switch (tid >> 32) {
    case 0: return tid ? fmt::format("QP {:#x}", tid) : "device";
    case 1: return fmt::format("command channel {}", tid & 0xffffffffu);
    case 2: return fmt::format("CQ {:#x}", tid & 0xffffffffu);
    case 3: return fmt::format("EQ {:#x}", tid & 0xffffffffu);
    default: return fmt::format("SRQ {:#x}", tid & 0xffffffffu);
    }
}

}  // namespace

Tracer::~Tracer() { close(); }

bool Tracer::open(const std::string& path, Format format) {
    if (path.empty()) return true;
    format_ = format;
    pid_ = static_cast<int>(::getpid());
    if (path == "-") {
        out_ = stderr;
    } else {
        out_ = std::fopen(path.c_str(), "w");
        if (!out_) return false;
        owned_ = true;
        std::setvbuf(out_, nullptr, _IOLBF, 0);
    }
    if (format_ == Format::Json)
        fmt::print(out_, "[\n{{\"name\":\"process_name\",\"ph\":\"M\",\"ts\":0,\"pid\":{},\"tid\":0,"
                         "\"args\":{{\"name\":\"hcasim-device\"}}}}",
                   pid_);
    return true;
}

void Tracer::close() {
    if (!out_) return;
    if (format_ == Format::Json) fmt::print(out_, "\n]\n");
    std::fflush(out_);
    if (owned_) std::fclose(out_);
    out_ = nullptr;
    owned_ = false;
}

void Tracer::Record::key(std::string_view k) {
    if (!k.empty() && k.back() == '_') k.remove_suffix(1);  // errno_
    if (json_) {
        fmt::format_to(std::back_inserter(args_), "{}\"{}\":", args_.size() ? "," : "", k);
    } else {
        if (text_.size()) text_.push_back(' ');
        fmt::format_to(std::back_inserter(text_), "{}=", k);
    }
}

// The track of an event: its QP's first, else its SRQ's, CQ's, EQ's or
// command channel's.
void Tracer::Record::track(std::string_view key, uint64_t v) {
    int rank = 0;
    uint64_t tid = 0;
    if (key == "qpn") rank = 5, tid = v;
    else if (key == "srqn") rank = 4, tid = kSrqTrack | v;
    else if (key == "cqn") rank = 3, tid = kCqTrack | v;
    else if (key == "eqn") rank = 2, tid = kEqTrack | v;
    else if (key == "ch") rank = 1, tid = kChannelTrack | v;
    if (rank > track_rank_) {
        track_rank_ = rank;
        tid_ = tid;
    }
}

void Tracer::Record::H(std::string_view k, uint64_t v) {
    track(k, v);
    key(k);
    if (json_) fmt::format_to(std::back_inserter(args_), "\"{:#x}\"", v);
    else fmt::format_to(std::back_inserter(text_), "{:#x}", v);
}

void Tracer::Record::U(std::string_view k, uint64_t v) {
    track(k, v);
    key(k);
    fmt::format_to(std::back_inserter(json_ ? args_ : text_), "{}", v);
}

void Tracer::Record::I(std::string_view k, int64_t v) {
    key(k);
    fmt::format_to(std::back_inserter(json_ ? args_ : text_), "{}", v);
}

void Tracer::Record::X(std::string_view k, uint64_t v) {
    key(k);
    if (json_) fmt::format_to(std::back_inserter(args_), "\"{:#x}\"", v);
    else fmt::format_to(std::back_inserter(text_), "{:#x}", v);
}

void Tracer::Record::S(std::string_view k, std::string_view v) {
    key(k);
    if (json_) {
        args_.push_back('"');
        json_escape(args_, v);
        args_.push_back('"');
    } else if (needs_quotes(v)) {
        fmt::format_to(std::back_inserter(text_), "\"{}\"", v);
    } else {
        text_.append(v);
    }
}

void Tracer::Record::F(std::string_view k, double v) {
    if (k == "latency_us") dur_us_ = v;
    key(k);
    fmt::format_to(std::back_inserter(json_ ? args_ : text_), "{:.1f}", v);
}

void Tracer::Record::K(std::string_view k, std::string_view v) {
    if (json_) {
        key(k);
        args_.push_back('"');
        json_escape(args_, v);
        args_.push_back('"');
    } else if (!v.empty()) {  // already key=value text
        if (text_.size()) text_.push_back(' ');
        text_.append(v);
    }
}

void Tracer::commit(Record& r) {
    if (!out_) return;
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    if (format_ == Format::Text) {
        fmt::print(out_, "{:.6f} {}{}{}\n", t, r.name_, r.text_.size() ? " " : "",
                   std::string_view(r.text_.data(), r.text_.size()));
        std::fflush(out_);
        return;
    }
    if (named_tracks_.insert(r.tid_).second && r.tid_ != 0)
        fmt::print(out_, ",\n{{\"name\":\"thread_name\",\"ph\":\"M\",\"ts\":0,\"pid\":{},\"tid\":{},"
                         "\"args\":{{\"name\":\"{}\"}}}}",
                   pid_, r.tid_, track_name(r.tid_));
    const double us = t * 1e6;
    const std::string_view args(r.args_.data(), r.args_.size());
    if (r.dur_us_ >= 0)
        fmt::print(out_, ",\n{{\"name\":\"{}\",\"cat\":\"{}\",\"ph\":\"X\",\"ts\":{:.3f},\"dur\":{:.3f},\"pid\":{},"
                         "\"tid\":{},\"args\":{{{}}}}}",
                   r.name_, r.section_, us - r.dur_us_, r.dur_us_, pid_, r.tid_, args);
    else
        fmt::print(out_, ",\n{{\"name\":\"{}\",\"cat\":\"{}\",\"ph\":\"i\",\"s\":\"t\",\"ts\":{:.3f},\"pid\":{},"
                         "\"tid\":{},\"args\":{{{}}}}}",
                   r.name_, r.section_, us, pid_, r.tid_, args);
    std::fflush(out_);
}

}  // namespace hcasim
