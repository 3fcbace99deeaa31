// A real hcasim-device process for host-direct tests: started on a fresh
// socket in a temp dir, stopped with SIGTERM (which must exit 0 and remove
// the socket).  The binary comes from $HCASIM_DEVICE_BIN (set by meson).
#pragma once

#include <string>
#include <vector>

namespace hcasim::test {

class DeviceProcess {
public:
    // with_inspect: serve the inspection interface (the ConnectX-5 model
    // has none yet).
    explicit DeviceProcess(std::vector<std::string> extra_args = {}, bool with_inspect = true);
    ~DeviceProcess();

    const std::string& socket() const { return socket_; }
    const std::string& trace_path() const { return trace_; }
    const std::string& inspect_socket() const { return inspect_; }
    // One request to the device's inspection interface; the reply line.
    std::string inspect(const std::string& request) const;
    std::string trace() const;  // the trace file's contents
    bool alive() const;
    // SIGTERM; returns the exit status (or -1) and checks the socket is gone.
    int stop();

private:
    std::string dir_, socket_, trace_, inspect_;
    int pid_ = -1;
};

}  // namespace hcasim::test
