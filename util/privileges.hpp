// Dropping the privileges the daemon's set-up needed: its user (when started as root and told
// to run as another), its supplementary groups, every capability but those it still uses at
// run time, and the chance to gain any back (PR_SET_NO_NEW_PRIVS). A process that is not
// root afterwards is made non-dumpable: no other process of its user may trace it.
//
// Capabilities are changed with capget(2)/capset(2) and prctl(2) directly (<linux/capability.h>),
// not libcap: a handful of calls do not earn a library.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "util/result.hpp"

namespace ringtun::util {

// A set of capabilities as a bit mask: bit N is capability N (CAP_NET_ADMIN is 12).
using CapabilitySet = std::uint64_t;

constexpr CapabilitySet capability_bit(int cap) noexcept {
    return CapabilitySet{1} << cap;
}

// "cap_net_admin,cap_net_bind_service" (the names capabilities(7) and /proc use); "none".
std::string capability_names(CapabilitySet set);

// A user of the user database: the ids its process gets (its primary group only).
struct UserIds {
    std::string name;
    uid_t uid = 0;
    gid_t gid = 0;
};

// Looks `name` up in the user database (getpwnam_r). The error says "no such user" for a name
// that is not there.
Result<UserIds> find_user(const std::string& name);

struct PrivilegeDrop {
    // Becomes this user: real, effective and saved uid and gid, no supplementary groups. Needs
    // root (CAP_SETUID and CAP_SETGID); none, or the user the process already is: stays.
    std::optional<UserIds> user;
    // Kept in the permitted and effective sets (those the process holds; asking for one it
    // lacks is not an error). Inheritable and ambient end empty, as does the bounding set
    // beyond these when the process may drop from it (CAP_SETPCAP).
    CapabilitySet keep = 0;

    // Whether `user` is set and is not the user the process runs as: the drop changes ids.
    bool switches_user() const noexcept;
};

// What the process runs with afterwards, read back from the kernel.
struct PrivilegeState {
    uid_t uid = 0;
    gid_t gid = 0;
    CapabilitySet effective = 0, permitted = 0;
    bool no_new_privs = false;
};

// Drops to `drop` for the rest of the process's life, then reads back what holds and refuses
// (an error) anything short of what was asked. Capabilities and no_new_privs are per thread:
// call it while the process has one thread (an error otherwise).
Result<PrivilegeState> drop_privileges(const PrivilegeDrop& drop);

}  // namespace ringtun::util
