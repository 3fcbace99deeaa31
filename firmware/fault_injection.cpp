// Fault injection rules (see fault_injection.h).
#include "firmware/fault_injection.h"

#include "firmware/command_table.h"

#include <charconv>

namespace hcasim::firmware {

namespace {

template <class T>
std::optional<T> parse_number(const std::string& s) {
    int base = 10;
    std::string_view v(s);
    if (v.starts_with("0x") || v.starts_with("0X")) {
        base = 16;
        v.remove_prefix(2);
    }
    T out{};
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out, base);
    if (ec != std::errc() || p != v.data() + v.size() || v.empty()) return std::nullopt;
    return out;
}

}  // namespace

FaultInjector::FaultInjector()
    : resolve_([](const std::string& s) -> std::optional<uint16_t> {
          if (const CommandDesc* d = find_command(s)) return d->opcode;
          if (auto n = parse_number<uint16_t>(s); n && find_command(*n)) return *n;
          return std::nullopt;
      }) {}

std::optional<uint16_t> parse_opcode_number(const std::string& s) { return parse_number<uint16_t>(s); }

std::string FaultInjector::add(const std::string& spec) {
    std::vector<std::string> parts;
    size_t start = 0;
    for (;;) {
        size_t colon = spec.find(':', start);
        parts.push_back(spec.substr(start, colon - start));
        if (colon == std::string::npos) break;
        start = colon + 1;
    }
    if (parts.size() > 4 || parts[0].empty()) return "expected OPCODE[:STATUS[:COUNT[:SKIP]]]";
    Rule r{};
    if (auto op = resolve_(parts[0]))
        r.opcode = *op;
    else
        return "unknown command '" + parts[0] + "'";
    r.status = 0x01;
    if (parts.size() > 1) {
        auto s = parse_number<uint8_t>(parts[1]);
        if (!s || *s == 0) return "bad status '" + parts[1] + "' (non-zero, e.g. 0x1)";
        r.status = *s;
    }
    if (parts.size() > 2) {
        auto c = parse_number<uint32_t>(parts[2]);
        if (!c) return "bad count '" + parts[2] + "'";
        r.remaining = *c;
    }
    if (parts.size() > 3) {
        auto k = parse_number<uint32_t>(parts[3]);
        if (!k) return "bad skip count '" + parts[3] + "'";
        r.skip = *k;
    }
    rules_.push_back(r);
    return "";
}

std::optional<uint8_t> FaultInjector::check(uint16_t opcode) {
    for (auto& r : rules_) {
        if (r.opcode != opcode || r.exhausted) continue;
        if (r.skip > 0) {
            --r.skip;
            continue;
        }
        if (r.remaining > 0 && --r.remaining == 0) r.exhausted = true;
        return r.status;
    }
    return std::nullopt;
}

}  // namespace hcasim::firmware
