// Device discovery: ibv_get_device_list and friends (rdma-core
// ibv_get_device_list(3)).  An HCA is either a PCI function with hcasim's
// vendor/device ID under /sys/bus/pci/devices (in a guest), or a
// hcasim-device socket named by HCASIM_SOCKET (host-direct; several
// sockets may be given, separated by ':').  Devices are named hcasim0..N.
#include "verbs/provider.h"

#include "abi/hcasim_abi.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

namespace hcasim::verbs {

namespace {

std::mutex g_mu;
// Devices live as long as the process: contexts keep pointers to them.
std::vector<std::unique_ptr<DeviceShell>> g_devices;
std::vector<std::unique_ptr<DeviceLocation>> g_locations;

unsigned read_hex(const std::string& path) {
    FILE* f = std::fopen(path.c_str(), "re");
    if (!f) return 0;
    unsigned v = 0;
    if (std::fscanf(f, "%x", &v) != 1) v = 0;
    std::fclose(f);
    return v;
}

std::vector<DeviceLocation> scan() {
    std::vector<DeviceLocation> found;
    if (const char* env = std::getenv("HCASIM_SOCKET"); env && *env) {
        std::string list(env);
        size_t start = 0;
        while (start <= list.size()) {
            size_t end = list.find(':', start);
            if (end == std::string::npos) end = list.size();
            std::string p = list.substr(start, end - start);
            struct stat st{};
            if (!p.empty() && ::stat(p.c_str(), &st) == 0 && S_ISSOCK(st.st_mode))
                found.push_back({DeviceLocation::Kind::VfioUser, p});
            start = end + 1;
        }
        return found;
    }
    const std::string base = "/sys/bus/pci/devices";
    DIR* d = ::opendir(base.c_str());
    if (!d) return found;
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d))
        if (e->d_name[0] != '.') names.emplace_back(e->d_name);
    ::closedir(d);
    std::sort(names.begin(), names.end());
    for (const auto& n : names) {
        const std::string dir = base + "/" + n;
        if (read_hex(dir + "/vendor") == HCASIM_PCI_VENDOR_ID &&
            read_hex(dir + "/device") == HCASIM_PCI_DEVICE_ID)
            found.push_back({DeviceLocation::Kind::Pci, dir});
    }
    return found;
}

// The device object of a location (kept for the process's lifetime), named
// after its place `idx` in the current list.
DeviceShell* device_for(const DeviceLocation& loc, size_t idx) {
    DeviceShell* d = nullptr;
    for (auto& known : g_devices)
        if (known->loc->path == loc.path) d = known.get();
    if (!d) {
        auto l = std::make_unique<DeviceLocation>(loc);
        auto n = std::make_unique<DeviceShell>();
        std::memset(&n->dev, 0, sizeof(n->dev));
        n->loc = l.get();
        n->dev.node_type = IBV_NODE_CA;
        n->dev.transport_type = IBV_TRANSPORT_IB;
        std::snprintf(n->dev.dev_path, sizeof(n->dev.dev_path), "%s", loc.path.c_str());
        std::snprintf(n->dev.ibdev_path, sizeof(n->dev.ibdev_path), "%s", loc.path.c_str());
        g_locations.push_back(std::move(l));
        g_devices.push_back(std::move(n));
        d = g_devices.back().get();
    }
    std::snprintf(d->dev.name, sizeof(d->dev.name), "hcasim%zu", idx);
    std::snprintf(d->dev.dev_name, sizeof(d->dev.dev_name), "uverbs%zu", idx);
    return d;
}

}  // namespace

}  // namespace hcasim::verbs

using namespace hcasim::verbs;

HCASIM_EXPORT ibv_device** ibv_get_device_list(int* num_devices) {
    std::lock_guard lock(g_mu);
    const auto locs = scan();
    auto** list = static_cast<ibv_device**>(std::calloc(locs.size() + 1, sizeof(ibv_device*)));
    if (!list) {
        errno = ENOMEM;
        return nullptr;
    }
    for (size_t i = 0; i < locs.size(); ++i) list[i] = &device_for(locs[i], i)->dev;
    if (num_devices) *num_devices = static_cast<int>(locs.size());
    return list;
}

HCASIM_EXPORT void ibv_free_device_list(ibv_device** list) { std::free(list); }

HCASIM_EXPORT const char* ibv_get_device_name(ibv_device* device) { return device->name; }

// The node GUID is a firmware capability (QUERY_HCA_CAP; the device
// derives it from its MAC): known once a context was opened, else read
// through a short-lived one (rdma-core reads it from sysfs).
HCASIM_EXPORT __be64 ibv_get_device_guid(ibv_device* device) {
    DeviceShell* d = to_dev(device);
    uint64_t guid = d->node_guid.load();
    if (!guid) {
        if (ibv_context* ctx = ibv_open_device(device)) {
            guid = impl(ctx).caps.node_guid;
            ibv_close_device(ctx);
        }
    }
    return __builtin_bswap64(guid);
}

HCASIM_EXPORT int ibv_get_device_index(ibv_device* device) {
    unsigned idx = 0;
    return std::sscanf(device->name, "hcasim%u", &idx) == 1 ? static_cast<int>(idx) : -1;
}
