// Command channel: this context's private path to the HCA firmware.  It
// claims one of the device's command channels (BAR0 OWNER register), puts
// a command queue page and two mailbox pages in DMA memory, and executes
// one command at a time: fill the mailbox, hand the entry to the device,
// store the producer index in the channel's UAR page (cmd_pi) and wake
// the device if it is idle, poll for ownership to come back.
//
// Closing the channel releases it; the device then destroys every object
// created through it, which is also how a dead process's objects are
// reclaimed (a later open finds the channel of a dead pid and releases it).
#pragma once

#include "abi/hcasim_abi.h"
#include "abi/hcasim_commands.hpp"
#include "verbs/transport.h"

#include <cstdint>
#include <type_traits>
#include <mutex>

namespace hcasim::verbs {

struct CmdResult {
    uint8_t status = 0;     // HCASIM_STATUS_*
    uint32_t syndrome = 0;  // HCASIM_SYND_*
};

class CommandChannel {
public:
    explicit CommandChannel(Transport& t) : t_(t) {}
    ~CommandChannel() { close(); }

    // Claims a free channel and sets up its queue.  Returns 0, EBUSY (all
    // channels in use), or the transport's errno.
    int open();
    void close();

    // Executes one command.  in/out are the whole mailboxes (headers
    // included).  Returns 0 when the firmware answered (status in `res`,
    // out filled), EIO when the command could not be delivered,
    // ETIMEDOUT when the device never completed it.
    int exec(const void* in, size_t in_len, void* out, size_t out_len, CmdResult& res);

    // Executes and maps a non-OK status to an errno (mlx5-style):
    // returns 0 or that errno.  The opcode comes from the input's type
    // (abi/hcasim_commands.hpp), and Out must be that command's output.
    template <class In, class Out>
    int run(In& in, Out& out) {
        abi::prepare<In, Out>(in);
        CmdResult r;
        if (int e = exec(&in, sizeof(in), &out, sizeof(out), r)) return e;
        return status_to_errno(r.status);
    }

    static int status_to_errno(uint8_t status);
    uint32_t index() const { return ch_; }
    uint32_t uar_index() const { return HCASIM_CHANNEL_UAR(ch_); }

    // Once QUERY_HCA_CAP told where the UAR area is: the channel's UAR
    // page and the device's status page.  Until then commands go through
    // the channel's trapped DOORBELL register (the first QUERY_HCA_CAP).
    void set_uar(volatile hcasim_uar* uar, const volatile hcasim_status_page* status);

private:
    Transport& t_;
    std::mutex mu_;
    uint32_t ch_ = UINT32_MAX;
    uint32_t token_ = 0;
    uint32_t pi_ = 0;  // commands issued (running); the device's ci starts at 0
    volatile hcasim_uar* uar_ = nullptr;
    const volatile hcasim_status_page* status_ = nullptr;
    DmaBuffer cmdq_{}, in_{}, out_{};
};

}  // namespace hcasim::verbs
