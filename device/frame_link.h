// The Ethernet below a wire port: what a port backend needs from the
// platform to put frames on a link and to record them.  The device core
// stays free of any packet I/O library; link/vde_link.h (libvdeplug) and
// link/pcap_writer.h (libpcap) implement these for hcasim-device, and
// tests plug in their own links.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

namespace hcasim::device {

class FrameLink {
public:
    enum class SendResult {
        Sent,
        Busy,     // up, but its queue is full now (EAGAIN): try the same frame later
        Dropped,  // down, or an error: the frame is gone
    };
    virtual ~FrameLink() = default;
    // Sends one Ethernet frame (no FCS), without blocking.
    virtual SendResult send(const uint8_t* frame, size_t len) = 0;
    // Whether the link is connected (its state is the port's state).
    virtual bool up() const = 0;
    // Hands every frame received and still waiting in the link's receive
    // queue to on_frame, in order, now (the port calls this before the
    // engine's timers fire).  Returns how many.  A link that delivers
    // each frame as it arrives has none waiting.
    using OnFrame = std::function<void(const uint8_t* frame, size_t len)>;
    virtual size_t drain(const OnFrame& on_frame) {
        (void)on_frame;
        return 0;
    }
};

// Sees every frame a port sends and receives (e.g. a pcap file).
class FrameTap {
public:
    enum class Dir { Tx, Rx };
    virtual ~FrameTap() = default;
    virtual void frame(Dir dir, const uint8_t* frame, size_t len, uint64_t now_ns) = 0;
};

}  // namespace hcasim::device
