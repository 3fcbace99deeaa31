// hcasim-device: one virtual HCA as a vfio-user server process.
//
//   hcasim-device --socket PATH [--memic-size BYTES] [--trace FILE|-]
//                 [--fail-cmd OPCODE[:STATUS[:COUNT]]]... [--inspect PATH]
//                 [--tph-st-map CPU:ST,...] [--tph-st-map-pm CPU:ST,...] [--privileged]
//
// SIGTERM/SIGINT end it cleanly and remove the socket.
#include "device/hca.h"
#include "firmware/trace.h"
#include "pcie/hca_function.h"
#include "pcie/inspect_server.h"
#include "pcie/vfio_user_server.h"

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <fmt/format.h>

#include <csignal>
#include <cstring>

int main(int argc, char** argv) {
    CLI::App app{"hcasim-device: a virtual RDMA HCA served over vfio-user"};
    std::string socket_path, trace_path;
    uint64_t memic_size = 256 * 1024;
    std::vector<std::string> faults;
    std::string inspect_path, st_map_vm, st_map_pm;
    bool privileged = false;
    app.add_option("--socket", socket_path, "UNIX socket to listen on")->required();
    app.add_option("--memic-size", memic_size,
                   "MEMIC device memory in bytes (multiple of 4096, at most 1 GiB; 0 = none)")
        ->check(CLI::Range(uint64_t{0}, uint64_t{1} << 30));
    app.add_option("--trace", trace_path, "trace every firmware command to FILE, or - for stderr");
    app.add_option("--fail-cmd", faults,
                   "make a firmware command fail: OPCODE[:STATUS[:COUNT]] (repeatable)");
    app.add_option("--inspect", inspect_path, "serve the inspection interface on this UNIX socket");
    app.add_option("--tph-st-map", st_map_vm,
                   "platform steering tags for volatile memory, CPU:ST[,CPU:ST...] "
                   "(default ST = 0x10 + cpu)");
    app.add_option("--tph-st-map-pm", st_map_pm,
                   "platform steering tags for persistent memory, CPU:ST[,CPU:ST...] "
                   "(default ST = 0x80 + cpu)");
    app.add_flag("--privileged", privileged,
                 "this function is privileged: it may allocate SW ICM (mlx5dv_alloc_dm)");
    CLI11_PARSE(app, argc, argv);

    if (memic_size % 4096 != 0) {
        fmt::print(stderr, "hcasim-device: --memic-size must be a multiple of 4096\n");
        return 2;
    }
    std::signal(SIGPIPE, SIG_IGN);

    hcasim::firmware::Tracer trace;
    if (!trace.open(trace_path)) {
        fmt::print(stderr, "hcasim-device: cannot open trace file {}: {}\n", trace_path,
                   std::strerror(errno));
        return 1;
    }
    boost::asio::io_context io;
    try {
        hcasim::device::Hca hca({memic_size, privileged}, trace);
        for (const auto& f : faults) {
            if (auto err = hca.firmware().faults().add(f); !err.empty()) {
                fmt::print(stderr, "hcasim-device: --fail-cmd {}: {}\n", f, err);
                return 2;
            }
        }
        for (auto [type, spec] : {std::pair<uint8_t, std::string*>{0, &st_map_vm}, {1, &st_map_pm}}) {
            if (spec->empty()) continue;
            if (auto err = hca.firmware().state().st_map.parse(type, *spec); !err.empty()) {
                fmt::print(stderr, "hcasim-device: --tph-st-map{}: {}\n", type ? "-pm" : "", err);
                return 2;
            }
        }
        hca.set_post([&io](std::function<void()> fn) { boost::asio::post(io, std::move(fn)); });
        hcasim::pcie::HcaFunction function(hca);
        hcasim::pcie::VfioUserServer server(io, function, trace);
        if (int e = server.listen(socket_path)) {
            fmt::print(stderr, "hcasim-device: cannot listen on {}: {}\n", socket_path,
                       std::strerror(e));
            return 1;
        }
        hcasim::pcie::InspectServer inspect(io, hca);
        if (!inspect_path.empty()) {
            if (int e = inspect.listen(inspect_path)) {
                fmt::print(stderr, "hcasim-device: cannot listen on {}: {}\n", inspect_path,
                           std::strerror(e));
                return 1;
            }
        }
        boost::asio::signal_set signals(io, SIGTERM, SIGINT);
        signals.async_wait([&](const boost::system::error_code&, int sig) {
            trace.event("device_exit", "signal={}", sig);
            inspect.stop();
            server.stop();
            io.stop();
        });
        fmt::print(stderr, "hcasim-device: listening on {} (MEMIC {} bytes)\n", socket_path,
                   memic_size);
        io.run();
    } catch (const std::exception& e) {
        fmt::print(stderr, "hcasim-device: {}\n", e.what());
        return 1;
    }
    return 0;
}
