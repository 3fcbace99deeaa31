// A pcap capture of the port's frames (libpcap's dump API: pcap_open_dead
// with DLT_EN10MB, pcap_dump_open, pcap_dump), readable by Wireshark and
// tshark, which decode RoCEv2 (UDP 4791) as InfiniBand.  Every frame sent
// and received goes in, with its time; the file is flushed after each
// frame so a capture stays readable if the device is killed.
#pragma once

#include "device/frame_link.h"

#include <pcap/pcap.h>

#include <string>

namespace hcasim::link {

class PcapWriter final : public device::FrameTap {
public:
    PcapWriter() = default;
    ~PcapWriter() override { close(); }
    PcapWriter(const PcapWriter&) = delete;
    PcapWriter& operator=(const PcapWriter&) = delete;

    // Creates (truncates) `path`.  Returns "" or libpcap's error message.
    std::string open(const std::string& path);
    void close();
    bool is_open() const { return dumper_ != nullptr; }
    // `now_ns` is ignored: frames get the wall-clock time pcap readers expect.
    void frame(Dir dir, const uint8_t* frame, size_t len, uint64_t now_ns) override;
    uint64_t frames() const { return frames_; }

private:
    pcap_t* pcap_ = nullptr;
    pcap_dumper_t* dumper_ = nullptr;
    uint64_t frames_ = 0;
};

}  // namespace hcasim::link
