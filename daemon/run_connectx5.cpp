// hcasim-device --model connectx5 (see run_connectx5.h).
#include "daemon/run_connectx5.h"

#include "common/trace_events.h"
#include "pcie/cx5_function.h"
#include "pcie/cx5_hca.h"
#include "pcie/vfio_user_server.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <fmt/format.h>

#include <cstring>

namespace hcasim::daemon {

int run_connectx5(const Cx5Options& opts, Tracer& trace)
{
    boost::asio::io_context io;
    pcie::Cx5Hca hca(trace);
    hca.device().port().set_identity(opts.mac);
    for (const auto& f : opts.faults) {
        if (auto err = hca.firmware().faults().add(f); !err.empty()) {
            fmt::print(stderr, "hcasim-device: --fail-cmd {}: {}\n", f, err);
            return 2;
        }
    }
    pcie::Cx5Function function(hca);
    pcie::VfioUserServer::Options server_opts;
    server_opts.stall_timeout = opts.client_stall;
    pcie::VfioUserServer server(io, function, trace, server_opts);
    hca.set_post([&server](std::function<void()> fn) { server.post_device_work(std::move(fn)); });
    if (int e = server.listen(opts.socket_path)) {
        fmt::print(stderr, "hcasim-device: cannot listen on {}: {}\n", opts.socket_path, std::strerror(e));
        return 1;
    }
    boost::asio::signal_set signals(io, SIGTERM, SIGINT);
    signals.async_wait([&](const boost::system::error_code&, int sig) {
        trace::device_exit(trace, sig);
        server.stop();
        io.stop();
    });
    fmt::print(stderr, "hcasim-device: listening on {} (model connectx5, PCI {:04x}:{:04x})\n",
               opts.socket_path, pcie::cx5_cfg::kVendorId, pcie::cx5_cfg::kDeviceId);
    io.run();
    return 0;
}

}  // namespace hcasim::daemon
