#include "daemon/backend/control_socket.hpp"

#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/log.hpp"

namespace ringtun::daemon {

namespace {

util::Result<sockaddr_un> unix_address(const std::string& path) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    if (path.size() >= sizeof a.sun_path)
        return util::fail(util::make_error(path, "control socket path too long"));
    std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
    return a;
}

// Whether something accepts connections on the socket file at `a`.
bool in_use(const sockaddr_un& a) {
    util::UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    return probe && ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0;
}

int bind_private(int fd, const sockaddr_un& a) {
    const mode_t old = ::umask(077);
    const int r = ::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a);
    const int err = errno;
    ::umask(old);
    errno = err;
    return r;
}

}  // namespace

util::Result<ControlSocket> ControlSocket::open(const std::string& dir, const std::string& ifname) {
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
        return util::fail(util::sys_error("mkdir", errno, dir));
    const std::string path = dir + "/" + ifname + ".sock";
    auto addr = unix_address(path);
    if (!addr) return util::fail(addr.error());
    util::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd) return util::fail(util::sys_error("socket", errno, "control socket"));
    if (bind_private(fd.get(), *addr) != 0) {
        if (errno != EADDRINUSE) return util::fail(util::sys_error("bind", errno, path));
        if (in_use(*addr))
            return util::fail(
                util::make_error(path, "in use: another daemon serves this interface"));
        ::unlink(path.c_str());  // stale: its daemon is gone
        if (bind_private(fd.get(), *addr) != 0)
            return util::fail(util::sys_error("bind", errno, path));
    }
    // A burst of clients (the newest evict the oldest) waits in the backlog, not refused.
    if (::listen(fd.get(), control_backlog) != 0)
        return util::fail(util::sys_error("listen", errno, path));
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return util::fail(util::sys_error("stat", errno, path));
    return ControlSocket(std::move(fd), path, st.st_ino);
}

util::Result<ControlSocket> ControlSocket::adopt(int fd, const std::string& dir,
                                                 const std::string& ifname) {
    util::UniqueFd owned(fd);
    int listening = 0, type = 0;
    socklen_t len = sizeof listening;
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening)
        return util::fail(util::make_error("WG_UAPI_FD", "not a listening socket"));
    len = sizeof type;
    sockaddr_un a{};
    socklen_t alen = sizeof a;
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &alen) != 0 || a.sun_family != AF_UNIX)
        return util::fail(util::make_error("WG_UAPI_FD", "not a unix stream socket"));
    if (::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)
        return util::fail(util::sys_error("fcntl", errno, "WG_UAPI_FD"));
    const std::string path = dir + "/" + ifname + ".sock";
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode))
        return util::fail(util::make_error(path, "WG_UAPI_FD given but no socket file here"));
    return ControlSocket(std::move(owned), path, st.st_ino);
}

util::Result<util::UniqueFd> ControlSocket::watch() const {
    util::UniqueFd fd(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    if (!fd) return util::fail(util::sys_error("inotify_init1", errno, path_));
    if (::inotify_add_watch(fd.get(), path_.c_str(),
                            IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_DONT_FOLLOW) < 0)
        return util::fail(util::sys_error("inotify_add_watch", errno, path_));
    return fd;
}

util::Result<void> ControlSocket::give_to(uid_t uid, gid_t gid) const {
    if (!still_ours()) return util::fail(util::make_error(path_, "no longer our socket"));
    if (::lchown(path_.c_str(), uid, gid) != 0)
        return util::fail(util::sys_error("chown", errno, path_));
    return {};
}

ControlSocket::ControlSocket(ControlSocket&& o) noexcept
    : fd_(std::move(o.fd_)), path_(std::move(o.path_)), inode_(o.inode_) {
    o.path_.clear();
}

bool ControlSocket::still_ours() const noexcept {
    struct stat st {};
    return !path_.empty() && ::lstat(path_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) &&
           st.st_ino == inode_;
}

ControlSocket::~ControlSocket() {
    if (!still_ours() || ::unlink(path_.c_str()) == 0) return;
    if (errno == EACCES || errno == EPERM)
        RT_LOG_NOTICE(
            "%s: left behind: its directory does not let uid %u remove it (the next "
            "start or wg removes it)",
            path_.c_str(), static_cast<unsigned>(::geteuid()));
}

}  // namespace ringtun::daemon
