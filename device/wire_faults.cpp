// Egress fault injection (see wire_faults.h).
#include "device/wire_faults.h"

#include <charconv>
#include <cstdlib>

namespace hcasim::device {
namespace {

constexpr size_t kEthHeaderLen = 14;

bool parse_prob(const std::string& v, double& out) {
    char* end = nullptr;
    const double d = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0' || !(d >= 0.0 && d <= 1.0)) return false;
    out = d;
    return true;
}

bool parse_u64(const std::string& v, uint64_t& out) {
    const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    return ec == std::errc{} && p == v.data() + v.size() && !v.empty();
}

}  // namespace

std::string parse_wire_faults(const std::string& spec, WireFaultConfig& cfg) {
    if (spec.empty()) return "";
    size_t pos = 0;
    while (pos <= spec.size()) {
        size_t comma = spec.find(',', pos);
        if (comma == std::string::npos) comma = spec.size();
        const std::string item = spec.substr(pos, comma - pos);
        pos = comma + 1;
        const size_t eq = item.find('=');
        if (eq == std::string::npos) return "'" + item + "': expected NAME=VALUE";
        const std::string name = item.substr(0, eq), value = item.substr(eq + 1);
        bool ok = false;
        uint64_t us = 0;
        if (name == "loss") ok = parse_prob(value, cfg.loss);
        else if (name == "dup") ok = parse_prob(value, cfg.duplicate);
        else if (name == "reorder") ok = parse_prob(value, cfg.reorder);
        else if (name == "corrupt") ok = parse_prob(value, cfg.corrupt);
        else if (name == "seed") ok = parse_u64(value, cfg.seed);
        else if (name == "delay-us") {
            ok = parse_u64(value, us) && us <= 10'000'000;
            cfg.delay_ns = us * 1000;
        } else
            return "unknown fault '" + name + "' (loss, dup, reorder, corrupt, delay-us, seed)";
        if (!ok) return "bad value for " + name + ": '" + value + "'";
    }
    return "";
}

bool WireFaults::chance(double p) {
    if (p <= 0) return false;
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng_) < p;
}

void WireFaults::emit(std::vector<uint8_t> frame, uint64_t now_ns, const Sink& out) {
    if (cfg_.delay_ns) {
        ++stats_.delayed;
        delayed_.push_back({now_ns + cfg_.delay_ns, std::move(frame)});
        return;
    }
    out(frame);
}

void WireFaults::submit(std::vector<uint8_t> frame, uint64_t now_ns, const Sink& out) {
    ++stats_.frames;
    // Decide everything first, so the number of draws per frame is fixed.
    const bool lose = chance(cfg_.loss);
    const bool corrupt = chance(cfg_.corrupt);
    const bool dup = chance(cfg_.duplicate);
    const bool hold = chance(cfg_.reorder);
    const uint64_t bit = rng_();
    if (lose) {
        ++stats_.lost;
    } else {
        if (corrupt && frame.size() > kEthHeaderLen) {
            ++stats_.corrupted;
            const size_t span = frame.size() - kEthHeaderLen;
            frame[kEthHeaderLen + (bit >> 3) % span] ^= static_cast<uint8_t>(1u << (bit & 7));
        }
        if (dup) {
            ++stats_.duplicated;
            emit(frame, now_ns, out);
        }
        if (hold && reordered_.empty()) {
            ++stats_.reordered;
            reordered_.push_back({now_ns + cfg_.reorder_hold_ns, std::move(frame)});
            return;  // goes out after the next frame
        }
        emit(std::move(frame), now_ns, out);
    }
    // A held frame follows the frame after it.
    if (!reordered_.empty()) {
        Held h = std::move(reordered_.back());
        reordered_.clear();
        emit(std::move(h.frame), now_ns, out);
    }
}

void WireFaults::poll(uint64_t now_ns, const Sink& out) {
    if (!reordered_.empty() && reordered_.front().due <= now_ns) {
        Held h = std::move(reordered_.front());
        reordered_.clear();
        emit(std::move(h.frame), now_ns, out);
    }
    while (!delayed_.empty() && delayed_.front().due <= now_ns) {
        Held h = std::move(delayed_.front());
        delayed_.pop_front();
        out(h.frame);
    }
}

uint64_t WireFaults::next_deadline() const {
    uint64_t d = 0;
    if (!reordered_.empty()) d = reordered_.front().due;
    if (!delayed_.empty() && (d == 0 || delayed_.front().due < d)) d = delayed_.front().due;
    return d;
}

}  // namespace hcasim::device
