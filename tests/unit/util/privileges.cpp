// Dropping privileges: capability names, the user database, and the drop itself, each drop in
// a forked child (it is for the rest of a process's life) that reports what /proc says of it.
#include "util/privileges.hpp"

#include <doctest/doctest.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

namespace ringtun::util {
namespace {

// The lines of /proc/self/status starting with each of `fields`, each run of blanks one
// space, none at the end.
std::string own_status(std::initializer_list<std::string_view> fields) {
    std::ifstream in("/proc/self/status");
    std::string line, out;
    while (std::getline(in, line))
        for (std::string_view f : fields)
            if (line.starts_with(f)) {
                std::string squeezed;
                for (char c : line)
                    if (c != ' ' && c != '\t')
                        squeezed += c;
                    else if (!squeezed.ends_with(' '))
                        squeezed += ' ';
                while (squeezed.ends_with(' '))
                    squeezed.pop_back();
                out += squeezed + '\n';
            }
    return out;
}

// Runs `body` in a forked child; its exit status (0 = what it checked held).
template <class Body>
int in_child(Body body) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) ::_exit(body());
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

constexpr CapabilitySet kNetAdmin = capability_bit(CAP_NET_ADMIN);

}  // namespace

TEST_CASE("capability names are those of capabilities(7)") {
    CHECK(capability_names(0) == "none");
    CHECK(capability_names(kNetAdmin) == "cap_net_admin");
    CHECK(capability_names(kNetAdmin | capability_bit(CAP_NET_BIND_SERVICE)) ==
          "cap_net_bind_service,cap_net_admin");
    CHECK(capability_names(capability_bit(CAP_CHECKPOINT_RESTORE)) == "cap_checkpoint_restore");
    CHECK(capability_names(capability_bit(63)) == "cap_63");
}

TEST_CASE("users are looked up by name") {
    auto root = find_user("root");
    REQUIRE(root);
    CHECK(root->uid == 0);
    CHECK(root->gid == 0);
    auto none = find_user("ringtun-no-such-user");
    REQUIRE_FALSE(none);
    CHECK(none.error().to_string() == "ringtun-no-such-user: no such user");
}

// Defect: getpwnam_r was called once with sysconf's suggested size (1 KiB on glibc), so an
// entry longer than that (ERANGE) made the user unknown. The child, in a mount namespace of
// its own, sees a copy of /etc/passwd with such an entry added; 77: no namespace for it.
TEST_CASE("a user whose entry is longer than the suggested buffer is found") {
    if (::geteuid() != 0) {
        MESSAGE("not root: test skipped");
        return;
    }
    char path[] = "/tmp/ringtun-passwd-XXXXXX";
    const int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    ::close(fd);
    {
        std::ifstream in("/etc/passwd");
        std::ofstream out(path);
        out << in.rdbuf() << "ringtun-long-entry:x:4242:4243:" << std::string(5000, 'g')
            << ":/nonexistent:/usr/sbin/nologin\n";
    }
    const int status = in_child([&] {
        if (::unshare(CLONE_NEWNS) != 0 ||
            ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
            ::mount(path, "/etc/passwd", nullptr, MS_BIND, nullptr) != 0)
            return 77;
        auto found = find_user("ringtun-long-entry");
        if (!found) {
            std::fprintf(stderr, "%s\n", found.error().to_string().c_str());
            return 1;
        }
        return found->uid == 4242 && found->gid == 4243 ? 0 : 2;
    });
    ::unlink(path);
    if (status == 77) {
        MESSAGE("no mount namespace: test skipped");
        return;
    }
    CHECK(status == 0);
}

TEST_CASE("root drops to a user with CAP_NET_ADMIN only, or stays root with it") {
    if (::geteuid() != 0) {
        MESSAGE("not root: test skipped");
        return;
    }
    auto nobody = find_user("nobody");
    if (!nobody) {
        MESSAGE("no user nobody: test skipped");
        return;
    }
    const std::string ids = std::to_string(nobody->uid);
    const std::string gids = std::to_string(nobody->gid);
    const std::string as_nobody = "Uid: " + ids + " " + ids + " " + ids + " " + ids +
                                  "\nGid: " + gids + " " + gids + " " + gids + " " + gids +
                                  "\nGroups:\nCapInh: 0000000000000000\n"
                                  "CapPrm: 0000000000001000\nCapEff: 0000000000001000\n"
                                  "CapBnd: 0000000000001000\nCapAmb: 0000000000000000\n"
                                  "NoNewPrivs: 1\n";
    CHECK(in_child([&] {
              auto state = drop_privileges({.user = *nobody, .keep = kNetAdmin});
              if (!state) return 2;
              if (state->uid != nobody->uid || state->effective != kNetAdmin) return 3;
              if (::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0) return 4;
              const std::string got = own_status({"Uid:", "Gid:", "Groups:", "CapInh:", "CapPrm:",
                                                  "CapEff:", "CapBnd:", "CapAmb:", "NoNewPrivs:"});
              if (got != as_nobody) std::fprintf(stderr, "/proc/self/status:\n%s", got.c_str());
              return got == as_nobody ? 0 : 5;
          }) == 0);
    CHECK(in_child([&] {
              auto state = drop_privileges({.user = std::nullopt, .keep = kNetAdmin});
              if (!state || state->uid != 0 || state->permitted != kNetAdmin) return 2;
              return own_status({"CapEff:", "NoNewPrivs:"}) ==
                             "CapEff: 0000000000001000\nNoNewPrivs: 1\n"
                         ? 0
                         : 3;
          }) == 0);
    // Capabilities are per thread: with a second thread the drop is refused, not half done.
    CHECK(in_child([&] {
              std::thread other([] { ::pause(); });
              other.detach();
              auto state = drop_privileges({.user = *nobody, .keep = kNetAdmin});
              if (state) return 2;
              return state.error().to_string().find("threads") != std::string::npos &&
                             ::geteuid() == 0
                         ? 0
                         : 3;
          }) == 0);
}

TEST_CASE("a user that is not root cannot switch to another") {
    if (::geteuid() != 0) {
        MESSAGE("not root: test skipped");
        return;
    }
    auto nobody = find_user("nobody");
    if (!nobody) return;
    CHECK(in_child([&] {
              if (!drop_privileges({.user = *nobody, .keep = 0})) return 2;
              auto again = drop_privileges({.user = UserIds{"root", 0, 0}, .keep = 0});
              if (again) return 3;
              return again.error().to_string().find("that needs root") != std::string::npos ? 0 : 4;
          }) == 0);
}

}  // namespace ringtun::util
