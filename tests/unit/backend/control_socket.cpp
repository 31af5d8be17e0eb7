// The UAPI socket file: created private (srwx------) in a directory made if missing; a live
// socket of another daemon refused, a stale one replaced; removed when the daemon goes unless
// something else took the path meanwhile.
#include "daemon/backend/control_socket.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "tests/unit/conf/temp_dir.hpp"

using ringtun::conf::test::TempDir;
using ringtun::daemon::ControlSocket;

namespace {

bool connects(const std::string& path) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
}

mode_t mode_of(const std::string& path) {
    struct stat st {};
    REQUIRE(::lstat(path.c_str(), &st) == 0);
    return st.st_mode;
}

}  // namespace

TEST_CASE("control socket: private, in a directory made for it, gone with the daemon") {
    TempDir tmp;
    const std::string dir = tmp.file("wireguard");
    std::string path;
    {
        auto s = ControlSocket::open(dir, "rt0");
        REQUIRE(s);
        path = s->path();
        CHECK(path == dir + "/rt0.sock");
        CHECK(S_ISDIR(mode_of(dir)));
        CHECK(S_ISSOCK(mode_of(path)));
        CHECK((mode_of(path) & 0777) == 0700);
        CHECK(s->still_ours());
        CHECK(connects(path));
    }
    CHECK(::access(path.c_str(), F_OK) != 0);
}

TEST_CASE("control socket: a live one is refused, a stale one replaced") {
    TempDir tmp;
    auto first = ControlSocket::open(tmp.path(), "rt0");
    REQUIRE(first);
    auto second = ControlSocket::open(tmp.path(), "rt0");
    REQUIRE_FALSE(second);
    CHECK(second.error().to_string().find("in use") != std::string::npos);

    // A socket file whose daemon died: bound, never unlinked, nothing listening.
    const std::string stale = tmp.file("rt1.sock");
    {
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::strncpy(a.sun_path, stale.c_str(), sizeof a.sun_path - 1);
        const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        ::close(fd);
    }
    CHECK_FALSE(connects(stale));
    auto replaced = ControlSocket::open(tmp.path(), "rt1");
    REQUIRE(replaced);
    CHECK(connects(stale));
}

TEST_CASE("control socket: a path deleted or taken over is no longer ours, and is left alone") {
    TempDir tmp;
    auto s = ControlSocket::open(tmp.path(), "rt0");
    REQUIRE(s);
    const std::string path = s->path();
    REQUIRE(::unlink(path.c_str()) == 0);  // what `rm` or a new daemon does
    CHECK_FALSE(s->still_ours());
    auto other = ControlSocket::open(tmp.path(), "rt0");  // another daemon takes the name
    REQUIRE(other);
    CHECK_FALSE(s->still_ours());
    { ControlSocket gone = std::move(*s); }
    CHECK(connects(path));  // the first one's exit did not remove the second's socket
}

TEST_CASE("control socket: the watch turns readable when the file is deleted") {
    TempDir tmp;
    auto s = ControlSocket::open(tmp.path(), "rt0");
    REQUIRE(s);
    auto w = s->watch();
    REQUIRE(w);
    char buf[4096];
    CHECK(::read(w->get(), buf, sizeof buf) < 0);  // nothing yet (non-blocking)
    CHECK(errno == EAGAIN);
    REQUIRE(::unlink(s->path().c_str()) == 0);
    CHECK(::read(w->get(), buf, sizeof buf) > 0);  // the unlink, as IN_ATTRIB
    CHECK_FALSE(s->still_ours());
}

TEST_CASE("control socket: adopted from WG_UAPI_FD only if it is a listening unix socket") {
    TempDir tmp;
    auto made = ControlSocket::open(tmp.path(), "rt0");
    REQUIRE(made);
    const int dup = ::fcntl(made->fd(), F_DUPFD_CLOEXEC, 0);
    auto adopted = ControlSocket::adopt(dup, tmp.path(), "rt0");
    REQUIRE(adopted);
    CHECK(adopted->still_ours());
    CHECK(adopted->path() == made->path());
    CHECK_FALSE(ControlSocket::adopt(::socket(AF_UNIX, SOCK_STREAM, 0), tmp.path(), "rt0"));
    CHECK_FALSE(ControlSocket::adopt(::fcntl(made->fd(), F_DUPFD_CLOEXEC, 0), tmp.path(), "rt9"));
}
