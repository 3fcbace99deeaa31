// Device inspection interface (see inspect_server.h).
#include "daemon/inspect_server.h"

#include "abi/hcasim_abi.h"

#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <istream>

namespace hcasim::daemon {

using boost::asio::local::stream_protocol;
using nlohmann::json;

namespace {

std::string to_hex(const uint8_t* p, size_t n) {
    std::string s;
    s.reserve(2 * n);
    for (size_t i = 0; i < n; ++i) s += fmt::format("{:02x}", p[i]);
    return s;
}

bool from_hex(const std::string& s, std::vector<uint8_t>& out) {
    if (s.size() % 2) return false;
    out.clear();
    for (size_t i = 0; i < s.size(); i += 2) {
        unsigned v = 0;
        if (std::sscanf(s.c_str() + i, "%2x", &v) != 1) return false;
        out.push_back(static_cast<uint8_t>(v));
    }
    return true;
}

json tag_json(const device::TphTag& t) {
    if (!t.present) return nullptr;
    json j = {{"ph", t.ph}, {"mem_type", t.mem_type ? "persistent" : "volatile"}};
    j["st"] = t.has_st ? json(t.st) : json(nullptr);
    return j;
}

json mkey_json(uint32_t key, const device::Mkey& m) {
    return {{"key", key},
            {"pdn", m.pdn},
            {"access", m.access},
            {"iova", m.iova},
            {"length", m.length},
            {"mode", m.mode == HCASIM_MKEY_MODE_MEMIC    ? "memic"
                     : m.mode == HCASIM_MKEY_MODE_SW_ICM ? "sw_icm"
                                                         : "mtt"},
            {"dmah", m.dmah},
            {"dma_writes", m.counters.dma_writes},
            {"bytes_written", m.counters.bytes_written},
            {"tagged_writes", m.counters.tagged_writes},
            {"last_tag", tag_json(m.counters.last_tag)}};
}

// One client: reads lines, answers each.
class Session : public std::enable_shared_from_this<Session> {
public:
    Session(stream_protocol::socket s, InspectServer& srv) : sock_(std::move(s)), srv_(srv) {}
    void start() { read(); }

private:
    void read() {
        auto self = shared_from_this();
        boost::asio::async_read_until(sock_, buf_, '\n',
                                      [this, self](boost::system::error_code ec, size_t) {
            if (ec) return;
            std::istream is(&buf_);
            std::string line;
            std::getline(is, line);
            out_ = srv_.handle(line) + "\n";
            boost::asio::async_write(sock_, boost::asio::buffer(out_),
                                     [this, self](boost::system::error_code ec2, size_t) {
                if (!ec2) read();
            });
        });
    }
    stream_protocol::socket sock_;
    InspectServer& srv_;
    boost::asio::streambuf buf_{1 << 20};
    std::string out_;
};

}  // namespace

int InspectServer::listen(const std::string& path) {
    ::unlink(path.c_str());
    boost::system::error_code ec;
    acceptor_ = std::make_unique<stream_protocol::acceptor>(io_);
    acceptor_->open(stream_protocol(), ec);
    if (!ec) acceptor_->bind(stream_protocol::endpoint(path), ec);
    if (!ec) acceptor_->listen(4, ec);
    if (ec) {
        acceptor_.reset();
        return ec.value() ? ec.value() : EINVAL;
    }
    path_ = path;
    accept_next();
    return 0;
}

void InspectServer::stop() {
    if (acceptor_) {
        boost::system::error_code ec;
        acceptor_->close(ec);
        acceptor_.reset();
    }
    if (!path_.empty()) {
        ::unlink(path_.c_str());
        path_.clear();
    }
}

void InspectServer::accept_next() {
    acceptor_->async_accept([this](boost::system::error_code ec, stream_protocol::socket s) {
        if (ec) return;
        std::make_shared<Session>(std::move(s), *this)->start();
        if (acceptor_) accept_next();
    });
}

json InspectServer::port_json() {
    auto& eng = hca_.engine();
    const auto& st = eng.stats();
    const auto& pc = eng.port();
    json j = {{"backend", wire_ ? "wire" : "loopback"},
              {"state", eng.port_active() ? "ACTIVE" : "DOWN"},
              {"mtu", pc.mtu},
              {"mac", fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", pc.mac[0], pc.mac[1], pc.mac[2],
                                  pc.mac[3], pc.mac[4], pc.mac[5])},
              {"ipv4", fmt::format("{}.{}.{}.{}", pc.ipv4 >> 24, (pc.ipv4 >> 16) & 0xff, (pc.ipv4 >> 8) & 0xff,
                                   pc.ipv4 & 0xff)},
              {"engine",
               {{"packets", st.packets}, {"acks", st.acks}, {"naks", st.naks}, {"rnr_naks", st.rnr_naks},
                {"retries", st.retries}, {"ack_timeouts", st.ack_timeouts}, {"reorder_held", st.reorder_held},
                {"rx_dropped", st.rx_dropped}}}};
    if (wire_) {
        auto& port = wire_->port();
        const auto& w = port.stats();
        const auto& f = port.fault_stats();
        const auto& a = port.arp().stats();
        json drops = json::object();
        for (size_t i = 0; i < w.rx_dropped.size(); ++i)
            drops[device::to_string(static_cast<device::WireDrop>(i))] = w.rx_dropped[i];
        j["wire"] = {{"url", wire_->link().url()},
                     {"tx_frames", w.tx_frames},
                     {"rx_frames", w.rx_frames},
                     {"tx_local", w.tx_local},
                     {"tx_no_route", w.tx_no_route},
                     {"tx_arp_queued", w.tx_arp_queued},
                     {"tx_arp_miss", w.tx_arp_miss},
                     {"tx_link_drops", w.tx_link_drops},
                     {"tx_link_busy", w.tx_link_busy},
                     {"rx_ring_full", wire_->link().rx_ring_full()},
                     {"rx_dropped", w.rx_dropped_total()},
                     {"rx_dropped_by_reason", drops},
                     {"arp_entries", port.arp().size()},
                     {"arp", {{"requests_sent", a.requests_sent}, {"replies_sent", a.replies_sent},
                              {"replies_received", a.replies_received}, {"malformed", a.malformed}}},
                     {"faults", {{"frames", f.frames}, {"lost", f.lost}, {"corrupted", f.corrupted},
                                 {"duplicated", f.duplicated}, {"reordered", f.reordered}, {"delayed", f.delayed}}},
                     {"pcap_frames", wire_->pcap().frames()}};
    }
    return j;
}

std::string InspectServer::handle(const std::string& line) {
    json req = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (req.is_discarded() || !req.is_object() || !req.contains("cmd") || !req["cmd"].is_string())
        return json{{"error", "expected a JSON object with a \"cmd\""}}.dump();
    auto& fw = hca_.firmware().state();
    const std::string cmd = req["cmd"];
    try {
        if (cmd == "port") return port_json().dump();
        if (cmd == "mkeys") {
            json list = json::array();
            for (const auto& [key, m] : fw.mkeys.all()) list.push_back(mkey_json(key, m));
            return json{{"mkeys", list}}.dump();
        }
        if (cmd == "mkey") {
            const uint32_t key = req.at("key");
            const device::Mkey* m = fw.mkeys.find(key);
            if (!m) return json{{"error", "no such mkey"}}.dump();
            return mkey_json(key, *m).dump();
        }
        if (cmd == "tph") {
            const device::TphConfig t = fw.tph ? fw.tph() : device::TphConfig{};
            return json{{"enabled", t.enabled}, {"st_mode", t.st_mode}, {"st_table", t.st_table}}
                .dump();
        }
        if (cmd == "memic_read") {
            const uint64_t off = req.at("offset"), len = req.at("length");
            if (len > 4096 || off > fw.memic.size() || len > fw.memic.size() - off)
                return json{{"error", "outside MEMIC"}}.dump();
            return json{{"data", to_hex(fw.memic_base + off, len)}}.dump();
        }
        if (cmd == "icm_read") {
            const uint64_t addr = req.at("addr"), len = req.at("length");
            const uint8_t* p = len <= 4096 ? fw.icm_at(addr, len) : nullptr;
            if (!p) return json{{"error", "outside SW ICM"}}.dump();
            return json{{"data", to_hex(p, len)}}.dump();
        }
        if (cmd == "mr_write") {
            std::vector<uint8_t> data;
            if (!from_hex(req.at("data").get<std::string>(), data) || data.size() > 65536)
                return json{{"error", "data must be hex, at most 64 KiB"}}.dump();
            device::TphTag tag;
            const auto err = fw.mr_engine().write(req.at("key"), req.at("addr"), data.data(),
                                                  data.size(), req.value("remote", true), &tag);
            if (fw.trace.enabled())
                trace::mr_write(fw.trace, req.at("key").get<uint32_t>(), req.at("addr").get<uint64_t>(),
                                data.size(), device::to_string(err),
                                tag.present ? fmt::format("ph={} st={} mem_type={}", tag.ph,
                                                          tag.has_st ? fmt::format("{:#x}", tag.st) : "none",
                                                          tag.mem_type)
                                            : "none");
            if (err != device::MrError::None)
                return json{{"error", device::to_string(err)}}.dump();
            return json{{"ok", true}, {"tag", tag_json(tag)}}.dump();
        }
    } catch (const json::exception& e) {
        return json{{"error", std::string("bad request: ") + e.what()}}.dump();
    }
    return json{{"error", "unknown cmd '" + cmd + "'"}}.dump();
}

}  // namespace hcasim::daemon
