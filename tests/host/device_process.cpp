// A real hcasim-device process for tests (see device_process.h).
#include "tests/host/device_process.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace hcasim::test {

DeviceProcess::DeviceProcess(std::vector<std::string> extra, bool with_inspect) {
    const char* bin = std::getenv("HCASIM_DEVICE_BIN");
    if (!bin) throw std::runtime_error("HCASIM_DEVICE_BIN not set");
    char tmpl[] = "/tmp/hcasim-test-XXXXXX";
    if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    socket_ = dir_ + "/hca.sock";
    trace_ = dir_ + "/trace.log";
    std::vector<std::string> args = {bin, "--socket", socket_, "--trace", trace_};
    if (with_inspect) {
        inspect_ = dir_ + "/inspect.sock";
        args.insert(args.end(), {"--inspect", inspect_});
    }
    args.insert(args.end(), extra.begin(), extra.end());
    // Debugging: more device options for every device of a test (split
    // at spaces), e.g. HCASIM_TEST_DEVICE_ARGS=--trace-datapath.
    if (const char* more = std::getenv("HCASIM_TEST_DEVICE_ARGS")) {
        std::string word;
        for (const char* c = more;; ++c) {
            if (*c && *c != ' ') {
                word += *c;
                continue;
            }
            if (!word.empty()) args.push_back(word);
            word.clear();
            if (!*c) break;
        }
    }
    pid_ = ::fork();
    if (pid_ == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive a crashed test
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        ::execv(bin, argv.data());
        ::_exit(127);
    }
    struct stat st{};
    for (int i = 0; i < 500; ++i) {
        if (::stat(socket_.c_str(), &st) == 0 && (inspect_.empty() || ::stat(inspect_.c_str(), &st) == 0))
            return;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    throw std::runtime_error("hcasim-device did not create its socket");
}

DeviceProcess::~DeviceProcess() {
    if (pid_ > 0) stop();
    if (std::getenv("HCASIM_TEST_KEEP_TRACE")) return;  // debugging: keep the trace (and the dir)
    ::unlink(trace_.c_str());
    if (!inspect_.empty()) ::unlink(inspect_.c_str());
    ::rmdir(dir_.c_str());
}

std::string DeviceProcess::inspect(const std::string& request) const {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", inspect_.c_str());
    std::string reply;
    if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0) {
        const std::string line = request + "\n";
        if (::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size())) {
            char ch;
            while (::read(fd, &ch, 1) == 1 && ch != '\n') reply += ch;
        }
    }
    if (fd >= 0) ::close(fd);
    return reply;
}

std::string DeviceProcess::trace() const {
    std::ifstream f(trace_);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

bool DeviceProcess::alive() const {
    if (pid_ <= 0) return false;
    int status;
    return ::waitpid(pid_, &status, WNOHANG) == 0;
}

int DeviceProcess::stop() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    struct stat st{};
    if (::stat(socket_.c_str(), &st) == 0) return -2;  // socket left behind
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace hcasim::test
