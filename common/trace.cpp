// Trace output (see trace.h).
#include "common/trace.h"

namespace hcasim {

Tracer::~Tracer() {
    if (owned_ && out_) std::fclose(out_);
}

bool Tracer::open(const std::string& path) {
    if (path.empty()) return true;
    if (path == "-") {
        out_ = stderr;
        return true;
    }
    out_ = std::fopen(path.c_str(), "w");
    if (!out_) return false;
    owned_ = true;
    std::setvbuf(out_, nullptr, _IOLBF, 0);
    return true;
}

void Tracer::emit(std::string_view name, const std::string& fields) {
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    fmt::print(out_, "{:.6f} {} {}\n", t, name, fields);
    std::fflush(out_);
}

}  // namespace hcasim
