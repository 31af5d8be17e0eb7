#include "daemon/cli/reload_client.hpp"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "daemon/cli/serve.hpp"
#include "util/unique_fd.hpp"

namespace ringtun::daemon {

namespace {

// A reload reads and applies a file: seconds at most, even with thousands of peers.
constexpr int reply_timeout_s = 60;

int fail(const std::string& what) {
    std::fprintf(stderr, "ringtun reload: %s\n", what.c_str());
    return 1;
}

}  // namespace

int reload_command(std::string_view ifname) {
    const std::string path = std::string(control_socket_dir) + "/" + std::string(ifname) + ".sock";
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) return fail(path + ": path too long");
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    util::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) return fail(std::string("socket: ") + std::strerror(errno));
    const timeval tv{.tv_sec = reply_timeout_s, .tv_usec = 0};
    (void)::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    (void)::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);  // connect too
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
        return fail(path + ": " + std::strerror(errno) + " (is ringtun running for " +
                    std::string(ifname) + "?)");
    static constexpr char request[] = "reload=1\n\n";
    if (::send(fd.get(), request, sizeof request - 1, MSG_NOSIGNAL) !=
        static_cast<ssize_t>(sizeof request - 1))
        return fail(path + ": " + std::strerror(errno));
    std::string reply;
    char buf[4096];
    while (reply.find("\n\n") == std::string::npos && reply.size() < 65536) {
        const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail(path + ": no answer: " + std::strerror(errno));
        if (n == 0) return fail(path + ": the daemon closed the connection without an answer");
        reply.append(buf, static_cast<std::size_t>(n));
    }
    int status = 1;
    std::size_t at = 0;
    for (std::size_t end; (end = reply.find('\n', at)) != std::string::npos; at = end + 1) {
        const std::string line = reply.substr(at, end - at);
        if (line.starts_with("error="))
            std::fprintf(stderr, "ringtun reload: %s\n", line.c_str() + 6);
        if (line == "errno=0") status = 0;
        if (line.empty()) break;
    }
    if (status == 0)
        std::printf("%.*s: reloaded\n", static_cast<int>(ifname.size()), ifname.data());
    return status;
}

}  // namespace ringtun::daemon
