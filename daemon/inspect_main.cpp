// hcasim-inspect: send one request to hcasim-device's inspection socket
// and print the reply.
//   hcasim-inspect --socket PATH '{"cmd":"mkeys"}'
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>

int main(int argc, char** argv) {
    CLI::App app{"hcasim-inspect: query hcasim-device's inspection interface"};
    std::string path, request;
    app.add_option("--socket", path, "the device's --inspect socket")->required();
    app.add_option("request", request, "one JSON request, e.g. {\"cmd\":\"mkeys\"}")->required();
    CLI11_PARSE(app, argc, argv);

    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (path.size() >= sizeof(sa.sun_path)) return 2;
    std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
        fmt::print(stderr, "hcasim-inspect: cannot connect to {}: {}\n", path, std::strerror(errno));
        return 1;
    }
    request += '\n';
    if (::write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) return 1;
    std::string reply;
    char c;
    while (::read(fd, &c, 1) == 1 && c != '\n') reply += c;
    ::close(fd);
    fmt::print("{}\n", reply);
    return reply.find("\"error\"") == std::string::npos ? 0 : 1;
}
