// hcasim-device: one virtual HCA as a vfio-user server process.
//
//   hcasim-device --socket PATH [--memic-size BYTES] [--trace FILE|-] [--trace-format text|json]
//                 [--fail-cmd OPCODE[:STATUS[:COUNT[:SKIP]]]]... [--inspect PATH]
//                 [--tph-st-map CPU:ST,...] [--tph-st-map-pm CPU:ST,...] [--privileged]
//                 [--mtu BYTES] [--mac MAC] [--ipv4 ADDR] [--trace-datapath]
//                 [--poll-us US] [--nap-us US] [--slice-us US] [--client-stall-ms MS]
//                 [--port loopback|VDE-URL] [--pcap FILE] [--wire-faults SPEC]
//
// SIGTERM/SIGINT end it cleanly and remove the socket.
#include "daemon/device_loop.h"
#include "pcie/hca.h"
#include "common/trace.h"
#include "daemon/run_connectx5.h"
#include "pcie/hca_function.h"
#include "daemon/inspect_server.h"
#include "daemon/port_wire.h"
#include "pcie/vfio_user_server.h"

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
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
    uint32_t mtu = 1024;
    std::string mac, ipv4;
    uint32_t poll_us = 2000;
    hcasim::daemon::PollPolicy policy;
    uint32_t nap_us = static_cast<uint32_t>(policy.nap.count());
    bool trace_datapath = false;
    uint32_t client_stall_ms = 60000;
    std::string port_url = "loopback", pcap_path, wire_faults;
    std::string model = "hcasim";
    app.add_option("--model", model,
                   "device model: hcasim (hcasim's own ABI, PCI 1234:4863) or connectx5 (a ConnectX-5, "
                   "PCI 15b3:1017, driven through the mlx5 PRM; in progress: docs/connectx5.md)")
        ->check(CLI::IsMember({"hcasim", "connectx5"}));
    app.add_option("--socket", socket_path, "UNIX socket to listen on")->required();
    app.add_option("--memic-size", memic_size,
                   "MEMIC device memory in bytes (multiple of 4096, at most 1 GiB; 0 = none)")
        ->check(CLI::Range(uint64_t{0}, uint64_t{1} << 30));
    app.add_option("--trace", trace_path, "trace every firmware command to FILE, or - for stderr");
    std::string trace_format = "text";
    app.add_option("--trace-format", trace_format,
                   "text (one line per event) or json (Trace Event Format: Perfetto, chrome://tracing)")
        ->check(CLI::IsMember({"text", "json"}));
    app.add_option("--fail-cmd", faults,
                   "make a firmware command fail: OPCODE[:STATUS[:COUNT[:SKIP]]] (repeatable)");
    app.add_option("--inspect", inspect_path, "serve the inspection interface on this UNIX socket");
    app.add_option("--tph-st-map", st_map_vm,
                   "platform steering tags for volatile memory, CPU:ST[,CPU:ST...] "
                   "(default ST = 0x10 + cpu)");
    app.add_option("--tph-st-map-pm", st_map_pm,
                   "platform steering tags for persistent memory, CPU:ST[,CPU:ST...] "
                   "(default ST = 0x80 + cpu)");
    app.add_flag("--privileged", privileged,
                 "this function is privileged: it may allocate SW ICM (mlx5dv_alloc_dm)");
    app.add_option("--mtu", mtu, "port 1 active MTU in bytes: 256, 512, 1024, 2048 or 4096")
        ->check(CLI::IsMember({256u, 512u, 1024u, 2048u, 4096u}));
    app.add_option("--mac", mac, "port 1 MAC address (default: derived from the socket path)");
    app.add_option("--ipv4", ipv4, "port 1 IPv4 address for the RoCE v2 GID (default: 10.73.x.y from the socket path)");
    app.add_option("--poll-us", poll_us,
                   "keep polling doorbells this long after the last work, in microseconds, "
                   "before going idle (docs/datapath.md)")
        ->check(CLI::Range(0u, 1000000u));
    app.add_option("--nap-us", nap_us,
                   "when the host's cores are oversubscribed, sleep this long between doorbell "
                   "scans instead of spinning, in microseconds (0: always spin; docs/datapath.md)")
        ->check(CLI::Range(0u, 1000u));
    app.add_option("--slice-us", policy.slice_us,
                   "ask the kernel for this scheduler slice (EEVDF, Linux >= 6.12), in "
                   "microseconds (0: the kernel's default)")
        ->check(CLI::Range(0u, 100000u));
    app.add_flag("--trace-datapath", trace_datapath,
                 "also trace every WQE, CQE, NAK and dropped packet (slow; needs --trace)");
    app.add_option("--client-stall-ms", client_stall_ms,
                   "drop a vfio-user client that stops mid-message for this long, in "
                   "milliseconds (docs/device.md)")
        ->check(CLI::Range(1u, 3600000u));
    app.add_option("--port", port_url,
                   "port 1's backend: loopback (QPs of this HCA only), or a libvdeplug URL for a "
                   "RoCEv2 wire, e.g. vde:///run/vde.ctl, ptp:///tmp/link, tap://tap0, vxvde:// "
                   "(docs/wire.md)");
    app.add_option("--pcap", pcap_path, "write every frame the wire port sends and receives to this pcap file");
    app.add_option("--wire-faults", wire_faults,
                   "egress faults of the wire port: loss=P,dup=P,reorder=P,corrupt=P,delay-us=N,seed=N");
    CLI11_PARSE(app, argc, argv);

    if (memic_size % 4096 != 0) {
        fmt::print(stderr, "hcasim-device: --memic-size must be a multiple of 4096\n");
        return 2;
    }
    std::signal(SIGPIPE, SIG_IGN);
    hcasim::Tracer trace;
    if (!trace.open(trace_path, trace_format == "json" ? hcasim::Tracer::Format::Json
                                                       : hcasim::Tracer::Format::Text)) {
        fmt::print(stderr, "hcasim-device: cannot open trace file {}: {}\n", trace_path,
                   std::strerror(errno));
        return 1;
    }
    if (model == "connectx5") {
        // What the ConnectX-5 model does not have yet is refused, not ignored.
        for (auto [given, name] : {std::pair{!inspect_path.empty(), "--inspect"},
                                   {!st_map_vm.empty() || !st_map_pm.empty(), "--tph-st-map"},
                                   {port_url != "loopback", "--port"},
                                   {!pcap_path.empty(), "--pcap"},
                                   {!wire_faults.empty(), "--wire-faults"},
                                   {trace_datapath, "--trace-datapath"},
                                   {privileged, "--privileged"},
                                   // the guest's own driver sets the netdev's MTU and address
                                   {app.count("--mtu") > 0, "--mtu"},
                                   {app.count("--ipv4") > 0, "--ipv4"}}) {
            if (given) {
                fmt::print(stderr, "hcasim-device: {} is not supported by --model connectx5 yet\n", name);
                return 2;
            }
        }
        // The permanent MAC: --mac, else derived from the socket path as
        // for hcasim's own model (two devices, two MACs).
        std::array<uint8_t, 6> cx5_mac = hcasim::device::default_port_config(socket_path).mac;
        if (!mac.empty() && !hcasim::device::parse_mac(mac, cx5_mac)) {
            fmt::print(stderr, "hcasim-device: --mac {}: not a MAC address\n", mac);
            return 2;
        }
        return hcasim::daemon::run_connectx5(
            {socket_path, faults, std::chrono::milliseconds(client_stall_ms), cx5_mac}, trace);
    }
    const bool wire = port_url != "loopback";
    hcasim::daemon::PortWireOptions wire_opts;
    wire_opts.url = port_url;
    wire_opts.pcap = pcap_path;
    if (auto err = hcasim::device::parse_wire_faults(wire_faults, wire_opts.faults); !err.empty()) {
        fmt::print(stderr, "hcasim-device: --wire-faults: {}\n", err);
        return 2;
    }
    if (!wire && (!pcap_path.empty() || wire_opts.faults.any())) {
        fmt::print(stderr, "hcasim-device: --pcap and --wire-faults need --port with a wire URL\n");
        return 2;
    }

    boost::asio::io_context io;
    try {
        hcasim::pcie::HcaConfig cfg;
        cfg.memic_size = memic_size;
        cfg.privileged = privileged;
        cfg.port = hcasim::device::default_port_config(socket_path);
        cfg.port.mtu = mtu;
        cfg.trace_datapath = trace_datapath;
        if (!mac.empty() && !hcasim::device::parse_mac(mac, cfg.port.mac)) {
            fmt::print(stderr, "hcasim-device: --mac {}: not a MAC address\n", mac);
            return 2;
        }
        if (!ipv4.empty() && !hcasim::device::parse_ipv4(ipv4, cfg.port.ipv4)) {
            fmt::print(stderr, "hcasim-device: --ipv4 {}: not an IPv4 address\n", ipv4);
            return 2;
        }
        hcasim::pcie::Hca hca(cfg, trace);
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
        hcasim::pcie::HcaFunction function(hca);
        hcasim::pcie::VfioUserServer::Options server_opts;
        server_opts.stall_timeout = std::chrono::milliseconds(client_stall_ms);
        hcasim::pcie::VfioUserServer server(io, function, trace, server_opts);
        // Doorbell and wake runs: from the loop, never inside a DMA wait.
        hca.set_post([&server](std::function<void()> fn) { server.post_device_work(std::move(fn)); });
        if (int e = server.listen(socket_path)) {
            fmt::print(stderr, "hcasim-device: cannot listen on {}: {}\n", socket_path,
                       std::strerror(e));
            return 1;
        }
        hcasim::daemon::InspectServer inspect(io, hca);
        if (!inspect_path.empty()) {
            if (int e = inspect.listen(inspect_path)) {
                fmt::print(stderr, "hcasim-device: cannot listen on {}: {}\n", inspect_path,
                           std::strerror(e));
                return 1;
            }
        }
        boost::asio::signal_set signals(io, SIGTERM, SIGINT);
        signals.async_wait([&](const boost::system::error_code&, int sig) {
            hcasim::trace::device_exit(trace, sig);
            inspect.stop();
            server.stop();
            io.stop();
        });
        fmt::print(stderr, "hcasim-device: listening on {} (MEMIC {} bytes)\n", socket_path,
                   memic_size);
        policy.hot = std::chrono::microseconds(poll_us);
        policy.nap = std::chrono::microseconds(nap_us);
        if (int e = hcasim::daemon::apply_sched_hints(policy))
            fmt::print(stderr, "hcasim-device: scheduler slice not set: {}\n", std::strerror(e));
        std::unique_ptr<hcasim::daemon::PortWire> port_wire;
        hcasim::daemon::LoopHooks hooks;
        if (wire) {
            port_wire = std::make_unique<hcasim::daemon::PortWire>(hca, wire_opts, trace);
            if (auto err = port_wire->start(); !err.empty()) {
                fmt::print(stderr, "hcasim-device: {}\n", err);
                return 1;
            }
            inspect.set_wire(port_wire.get());
            hooks.poll = [&] { return port_wire->poll(); };
            hooks.arm = [&](boost::asio::io_context& c) { port_wire->arm(c); };
            hooks.next_deadline = [&] { return port_wire->next_deadline(); };
            hooks.nap = [&](std::chrono::microseconds d) { port_wire->nap(d); };
        }
        hcasim::daemon::LoopStats loop_stats;
        hcasim::daemon::run_device_loop(io, hca, policy, loop_stats, hooks);
        hcasim::trace::device_loop(trace, loop_stats.scans, loop_stats.naps, loop_stats.contended,
                                   loop_stats.idle_sleeps);
        // The port's final counters (as the inspection interface's "port").
        if (trace.enabled()) hcasim::trace::port(trace, inspect.handle(R"({"cmd":"port"})"));
    } catch (const std::exception& e) {
        fmt::print(stderr, "hcasim-device: {}\n", e.what());
        return 1;
    }
    return 0;
}
