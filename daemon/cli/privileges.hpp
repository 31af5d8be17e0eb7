// What `ringtun run` keeps once set up, and who it is then: only CAP_NET_ADMIN (netlink for
// routes and addresses, SO_MARK), CAP_NET_BIND_SERVICE too when the configuration starts with
// a port below 1024, the [interface] user if one is named, and no way to gain more. And what
// that user could not read of the files a reload reads again.
#pragma once

#include <string>
#include <vector>

#include "daemon/cli/settings.hpp"
#include "util/privileges.hpp"

namespace ringtun::daemon {

// The drop `run` makes for `settings` after set-up, its [interface] user looked up (an error
// at the key's file, line and column if the user database does not know it). A port below
// 1024 that a reload or `wg` asks for later is refused (bind: EACCES) unless the
// configuration started with one.
util::Result<util::PrivilegeDrop> privilege_drop(const Settings& settings);

// One line per file of `path` (the configuration and its key files) that `user` cannot read,
// the directories on the way included, judged by owner, group and mode bits as the kernel
// will (with the user's primary group only: the drop clears the others). Empty if every one
// is readable, or if `user` is root.
std::vector<std::string> unreadable_by(const util::UserIds& user, const std::string& path,
                                       const Settings& settings);

// "user ringtun (uid 998, gid 998), capabilities cap_net_admin, no new privileges", after
// `drop`: the user's name is the one it named, else looked up.
std::string describe(const util::PrivilegeState& state, const util::PrivilegeDrop& drop);

}  // namespace ringtun::daemon
