// Dropping privileges after set-up; see privileges.hpp.
#include "util/privileges.hpp"

#include <dirent.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

namespace ringtun::util {

namespace {

// capabilities(7), in kernel order (CAP_CHOWN is 0).
constexpr std::array<const char*, 41> kCapabilityNames = {"cap_chown",
                                                          "cap_dac_override",
                                                          "cap_dac_read_search",
                                                          "cap_fowner",
                                                          "cap_fsetid",
                                                          "cap_kill",
                                                          "cap_setgid",
                                                          "cap_setuid",
                                                          "cap_setpcap",
                                                          "cap_linux_immutable",
                                                          "cap_net_bind_service",
                                                          "cap_net_broadcast",
                                                          "cap_net_admin",
                                                          "cap_net_raw",
                                                          "cap_ipc_lock",
                                                          "cap_ipc_owner",
                                                          "cap_sys_module",
                                                          "cap_sys_rawio",
                                                          "cap_sys_chroot",
                                                          "cap_sys_ptrace",
                                                          "cap_sys_pacct",
                                                          "cap_sys_admin",
                                                          "cap_sys_boot",
                                                          "cap_sys_nice",
                                                          "cap_sys_resource",
                                                          "cap_sys_time",
                                                          "cap_sys_tty_config",
                                                          "cap_mknod",
                                                          "cap_lease",
                                                          "cap_audit_write",
                                                          "cap_audit_control",
                                                          "cap_setfcap",
                                                          "cap_mac_override",
                                                          "cap_mac_admin",
                                                          "cap_syslog",
                                                          "cap_wake_alarm",
                                                          "cap_block_suspend",
                                                          "cap_audit_read",
                                                          "cap_perfmon",
                                                          "cap_bpf",
                                                          "cap_checkpoint_restore"};

struct Capabilities {
    CapabilitySet effective = 0, permitted = 0, inheritable = 0;
};

Result<Capabilities> get_capabilities() {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
    if (::syscall(SYS_capget, &header, data) != 0) return fail(sys_error("capget", errno));
    auto join = [&](auto field) {
        return CapabilitySet{data[0].*field} | CapabilitySet{data[1].*field} << 32;
    };
    return Capabilities{join(&__user_cap_data_struct::effective),
                        join(&__user_cap_data_struct::permitted),
                        join(&__user_cap_data_struct::inheritable)};
}

Result<void> set_capabilities(const Capabilities& c) {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
    for (unsigned i = 0; i < 2; ++i) {
        data[i].effective = static_cast<std::uint32_t>(c.effective >> (32 * i));
        data[i].permitted = static_cast<std::uint32_t>(c.permitted >> (32 * i));
        data[i].inheritable = static_cast<std::uint32_t>(c.inheritable >> (32 * i));
    }
    if (::syscall(SYS_capset, &header, data) != 0) return fail(sys_error("capset", errno));
    return {};
}

// Every capability the kernel knows, beyond `keep`, out of the bounding set: what no program
// this process might run could gain. Needs CAP_SETPCAP, so callers check for it first.
Result<void> bound_to(CapabilitySet keep) {
    for (int cap = 0; cap < 64 && ::prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; ++cap) {
        if ((keep & capability_bit(cap)) != 0) continue;
        if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0)
            return fail(sys_error("prctl(PR_CAPBSET_DROP)", errno, std::to_string(cap)));
    }
    return {};
}

// The threads of this process, or 0 where /proc cannot tell.
unsigned thread_count() {
    DIR* d = ::opendir("/proc/self/task");
    if (d == nullptr) return 0;
    unsigned n = 0;
    while (const dirent* e = ::readdir(d))
        n += e->d_name[0] != '.' ? 1 : 0;
    ::closedir(d);
    return n;
}

Result<void> become(const UserIds& user) {
    if (::setgroups(0, nullptr) != 0) return fail(sys_error("setgroups", errno, "none"));
    if (::setresgid(user.gid, user.gid, user.gid) != 0)
        return fail(sys_error("setresgid", errno, std::to_string(user.gid)));
    if (::setresuid(user.uid, user.uid, user.uid) != 0)
        return fail(sys_error("setresuid", errno, std::to_string(user.uid)));
    return {};
}

Result<PrivilegeState> read_back() {
    PrivilegeState s;
    uid_t ruid = 0, euid = 0, suid = 0;
    gid_t rgid = 0, egid = 0, sgid = 0;
    if (::getresuid(&ruid, &euid, &suid) != 0) return fail(sys_error("getresuid", errno));
    if (::getresgid(&rgid, &egid, &sgid) != 0) return fail(sys_error("getresgid", errno));
    if (ruid != euid || euid != suid || rgid != egid || egid != sgid)
        return fail(make_error("privileges", "real, effective and saved ids differ"));
    s.uid = euid;
    s.gid = egid;
    auto caps = get_capabilities();
    if (!caps) return fail(caps.error());
    s.effective = caps->effective;
    s.permitted = caps->permitted;
    s.no_new_privs = ::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1;
    return s;
}

}  // namespace

std::string capability_names(CapabilitySet set) {
    std::string out;
    for (int cap = 0; cap < 64; ++cap) {
        if ((set & capability_bit(cap)) == 0) continue;
        if (!out.empty()) out += ',';
        out += cap < static_cast<int>(kCapabilityNames.size()) ? kCapabilityNames[cap]
                                                               : "cap_" + std::to_string(cap);
    }
    return out.empty() ? "none" : out;
}

Result<UserIds> find_user(const std::string& name) {
    // The suggested size may be too small for an entry (ERANGE): doubled, up to 1 MiB.
    constexpr std::size_t max_buffer = std::size_t{1} << 20;
    const long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
    std::vector<char> buffer(size > 0 ? static_cast<std::size_t>(size) : 16384);
    passwd entry{};
    passwd* found = nullptr;
    int e = 0;
    while ((e = ::getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found)) ==
               ERANGE &&
           buffer.size() < max_buffer)
        buffer.resize(buffer.size() * 2);
    if (e != 0) return fail(sys_error("getpwnam_r", e, name));
    if (found == nullptr) return fail(make_error(name, "no such user"));
    return UserIds{name, entry.pw_uid, entry.pw_gid};
}

bool PrivilegeDrop::switches_user() const noexcept {
    return user && user->uid != ::geteuid();
}

Result<PrivilegeState> drop_privileges(const PrivilegeDrop& drop) {
    if (const unsigned threads = thread_count(); threads > 1)
        return fail(make_error("privileges", "the process has " + std::to_string(threads) +
                                                 " threads; drop privileges before any starts"));
    auto caps = get_capabilities();
    if (!caps) return fail(caps.error());
    const CapabilitySet keep = drop.keep & caps->permitted;
    const bool switching = drop.switches_user();
    constexpr CapabilitySet ids = capability_bit(CAP_SETUID) | capability_bit(CAP_SETGID);
    if (switching && (caps->effective & ids) != ids)
        return fail(make_error("user " + drop.user->name,
                               "cannot switch to it: that needs root (CAP_SETUID, CAP_SETGID)"));
    // Permitted capabilities survive the change of user, to be cut to `keep` below.
    if (switching && ::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0)
        return fail(sys_error("prctl(PR_SET_KEEPCAPS)", errno));
    if ((caps->effective & capability_bit(CAP_SETPCAP)) != 0)
        if (auto r = bound_to(keep); !r) return fail(r.error());
    if (switching)
        if (auto r = become(*drop.user); !r) return fail(r.error());
    if (auto r = set_capabilities({.effective = keep, .permitted = keep, .inheritable = 0}); !r)
        return fail(r.error());
    // Ambient capabilities are gone with the inheritable set; cleared outright all the same
    // (EINVAL before Linux 4.3, which has none).
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
        return fail(sys_error("prctl(PR_CAP_AMBIENT_CLEAR_ALL)", errno));
    if (switching) (void)::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return fail(sys_error("prctl(PR_SET_NO_NEW_PRIVS)", errno));
    auto state = read_back();
    if (!state) return state;
    // The memory holds private keys. Another process of the same user (another instance under
    // the systemd unit) must not ptrace it or read /proc/PID/mem; a change of user does this
    // by itself, a process started as that user needs it said. Root could anyway.
    if (state->uid != 0 && ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        return fail(sys_error("prctl(PR_SET_DUMPABLE)", errno));
    // Started as the user already, the group is the one the process was given.
    const bool user_ok = !drop.user || (state->uid == drop.user->uid &&
                                        (!switching || state->gid == drop.user->gid));
    if (!user_ok || state->effective != keep || state->permitted != keep || !state->no_new_privs)
        return fail(make_error("privileges", "the kernel did not take the drop"));
    return state;
}

}  // namespace ringtun::util
