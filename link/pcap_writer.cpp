// pcap capture of the port's frames (see pcap_writer.h).
#include "link/pcap_writer.h"

#include <sys/time.h>

#include <algorithm>

namespace hcasim::link {

namespace {
constexpr int kSnapLen = 65535;
}

std::string PcapWriter::open(const std::string& path) {
    close();
    pcap_ = pcap_open_dead(DLT_EN10MB, kSnapLen);
    if (!pcap_) return "pcap_open_dead failed";
    dumper_ = pcap_dump_open(pcap_, path.c_str());
    if (!dumper_) {
        std::string err = pcap_geterr(pcap_);
        pcap_close(pcap_);
        pcap_ = nullptr;
        return err;
    }
    return "";
}

void PcapWriter::close() {
    if (dumper_) pcap_dump_close(dumper_);
    if (pcap_) pcap_close(pcap_);
    dumper_ = nullptr;
    pcap_ = nullptr;
}

void PcapWriter::frame(Dir, const uint8_t* frame, size_t len, uint64_t) {
    if (!dumper_) return;
    pcap_pkthdr h{};
    gettimeofday(&h.ts, nullptr);
    h.len = static_cast<bpf_u_int32>(len);
    h.caplen = static_cast<bpf_u_int32>(std::min<size_t>(len, kSnapLen));
    pcap_dump(reinterpret_cast<u_char*>(dumper_), &h, frame);
    pcap_dump_flush(dumper_);
    ++frames_;
}

}  // namespace hcasim::link
