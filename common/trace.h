// Trace: one line per firmware command (opcode, inputs, status, syndrome,
// latency) and per notable device event, to a file or stderr ("-").
// Modelled on QEMU's trace events: a category, then key=value fields.
#pragma once

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>

namespace hcasim {

class Tracer {
public:
    Tracer() = default;
    ~Tracer();
    Tracer(const Tracer&) = delete;
    Tracer& operator=(const Tracer&) = delete;

    // path: a file (created/truncated), "-" for stderr, "" for no trace.
    // Returns false (and traces nothing) if the file cannot be opened.
    bool open(const std::string& path);
    bool enabled() const { return out_ != nullptr; }

    // Emits "<seconds since start> <event> <fields>".
    template <class... Args>
    void event(std::string_view name, fmt::format_string<Args...> f, Args&&... args) {
        if (!out_) return;
        emit(name, fmt::format(f, std::forward<Args>(args)...));
    }

private:
    void emit(std::string_view name, const std::string& fields);

    std::FILE* out_ = nullptr;
    bool owned_ = false;
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace hcasim
