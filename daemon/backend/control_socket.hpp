// The UAPI listening socket, DIR/IFNAME.sock (DIR = /var/run/wireguard for the daemon), made
// as wireguard-go makes it (ipc/uapi_unix.go) so that `wg` finds it and nobody else can use it:
//   - DIR is created 0755 if missing; the socket is bound under umask 077 (srwx------).
//   - A socket file nobody accepts on (a daemon that died) is replaced; one that accepts is
//     refused ("in use"): two daemons must not share an interface name.
//   - The file is unlinked when the ControlSocket goes, unless another process has replaced
//     it meanwhile (the inode no longer ours). A daemon that has dropped to a user the
//     directory does not let remove it leaves it (logged): the next start, or `wg`, finds
//     nobody accepting on it and removes it.
#pragma once

#include <sys/types.h>

#include <string>

#include "util/result.hpp"
#include "util/unique_fd.hpp"

namespace ringtun::daemon {

// The socket's listen backlog: a burst of clients waits there rather than being refused.
inline constexpr unsigned control_backlog = 128;

class ControlSocket {
  public:
    static util::Result<ControlSocket> open(const std::string& dir, const std::string& ifname);
    // Takes over `fd`, a listening unix socket made by another process for DIR/IFNAME.sock
    // (WG_UAPI_FD, as wireguard-go re-executes itself): an error if it is not one, or if
    // nothing is at that path.
    static util::Result<ControlSocket> adopt(int fd, const std::string& dir,
                                             const std::string& ifname);

    ControlSocket(ControlSocket&& o) noexcept;
    ControlSocket& operator=(ControlSocket&&) = delete;
    ControlSocket(const ControlSocket&) = delete;
    ~ControlSocket();

    int fd() const noexcept { return fd_.get(); }
    const std::string& path() const noexcept { return path_; }
    // Whether the file at path() is still our socket (the daemon exits when it is deleted, as
    // wireguard-go does).
    bool still_ours() const noexcept;
    // Makes the socket file `uid`'s (a daemon about to become that user: in a directory that
    // lets it, as the systemd unit's sticky /run/wireguard does, it can then remove the file
    // as it stops). The mode stays srwx------: root and that user may connect.
    util::Result<void> give_to(uid_t uid, gid_t gid) const;
    // An inotify descriptor that turns readable when the file at path() changes; then ask
    // still_ours(). An unlink shows as IN_ATTRIB (the link count), not IN_DELETE_SELF: the
    // bound socket keeps the inode alive.
    util::Result<util::UniqueFd> watch() const;

  private:
    ControlSocket(util::UniqueFd fd, std::string path, ino_t inode) noexcept
        : fd_(std::move(fd)), path_(std::move(path)), inode_(inode) {}

    util::UniqueFd fd_;
    std::string path_;
    ino_t inode_ = 0;
};

}  // namespace ringtun::daemon
