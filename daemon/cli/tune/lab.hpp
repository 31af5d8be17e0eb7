// `ringtun tune`'s lab: two network namespaces (ringtun-tune-PID-a and -b) joined by a veth
// pair, a private temporary directory with fresh keys and configurations, and one `ringtun
// run` in each namespace, restarted for every point of the sweep. Everything it creates it
// removes: on destruction, whatever ended the sweep (done, error, Ctrl-C).
//
// Addresses: veth 10.99.0.1/24 (a) and 10.99.0.2/24 (b), tunnel 10.100.0.1/24 and
// 10.100.0.2/24, WireGuard on UDP 51820 on both sides. The namespaces are private, so these
// never meet the host's.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crypto/keys.hpp"
#include "daemon/cli/tune/process.hpp"
#include "util/result.hpp"
#include "util/unique_fd.hpp"

namespace ringtun::daemon::tune {

inline constexpr const char* kTunnelA = "10.100.0.1";
inline constexpr const char* kTunnelB = "10.100.0.2";

class Lab {
  public:
    // Makes the namespaces, the veth pair and the keys. Namespaces of earlier runs whose
    // process is gone (killed with SIGKILL) are removed first.
    static util::Result<std::unique_ptr<Lab>> create();
    ~Lab();
    Lab(const Lab&) = delete;
    Lab& operator=(const Lab&) = delete;

    // (Re)starts both daemons with `ring` (the "key = value" lines of their [ring] section)
    // and waits, 10 s at most, until both said READY=1 (sd_notify, to a socket of ours: the
    // TUN and the UDP socket exist, so no handshake goes to a closed port and waits 5 s for
    // its retry) and a datagram has crossed the tunnel from a to b (the handshake done). An
    // error says why, with the daemon's own last words.
    util::Result<void> start(const std::vector<std::string>& ring);
    // Stops both daemons (SIGTERM, then SIGKILL after 3 s).
    void stop() noexcept;

    int netns_a() const noexcept { return ns_a_.get(); }
    int netns_b() const noexcept { return ns_b_.get(); }
    pid_t daemon_a() const noexcept { return daemon_a_ ? daemon_a_->pid() : -1; }
    pid_t daemon_b() const noexcept { return daemon_b_ ? daemon_b_->pid() : -1; }
    const std::string& name_a() const noexcept { return name_a_; }
    const std::string& name_b() const noexcept { return name_b_; }

  private:
    Lab() = default;
    util::Result<void> build();
    util::Result<void> write_config(char side, const std::vector<std::string>& ring) const;
    util::Result<void> wait_released();
    util::Result<void> wait_notified();
    util::Result<void> wait_crossing();
    util::Result<void> check_daemons();

    std::string name_a_, name_b_;
    std::string dir_;
    crypto::PrivateKey key_a_, key_b_;
    util::UniqueFd ns_a_, ns_b_;
    util::UniqueFd notify_a_, notify_b_;  // each daemon's NOTIFY_SOCKET
    std::optional<Child> daemon_a_, daemon_b_;
};

}  // namespace ringtun::daemon::tune
