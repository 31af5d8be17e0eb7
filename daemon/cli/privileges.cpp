// What run keeps after set-up; see privileges.hpp.
#include "daemon/cli/privileges.hpp"

#include <linux/capability.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/file_read.hpp"

namespace ringtun::daemon {

namespace {

bool below_1024(const std::optional<std::uint16_t>& port) noexcept {
    return port && *port < 1024;
}

// Whether `user` (its primary group only) has the permission bits of `want` (a mask of
// S_IROTH / S_IXOTH) on `st`.
bool grants(const struct stat& st, const util::UserIds& user, mode_t want) noexcept {
    if (st.st_uid == user.uid) return (st.st_mode & (want << 6)) == want << 6;
    if (st.st_gid == user.gid) return (st.st_mode & (want << 3)) == want << 3;
    return (st.st_mode & want) == want;
}

std::string mode_text(const struct stat& st) {
    return "owner uid " + std::to_string(st.st_uid) + ", group gid " + std::to_string(st.st_gid) +
           ", mode " + conf::mode_octal(st.st_mode);
}

// Why `user` cannot read `file` (the first directory on the way it cannot enter, or the file
// itself), or empty. A path that cannot be examined at all is left to the load to report.
std::string why_unreadable(const util::UserIds& user, const std::string& file) {
    for (std::size_t at = file.find('/', 1); at != std::string::npos; at = file.find('/', at + 1)) {
        const std::string d = file.substr(0, at);
        struct stat st {};
        if (::stat(d.c_str(), &st) == 0 && !grants(st, user, S_IXOTH))
            return d + " (" + mode_text(st) + ") cannot be entered";
    }
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0 || grants(st, user, S_IROTH)) return {};
    return "cannot be read (" + mode_text(st) + ")";
}

}  // namespace

util::Result<util::PrivilegeDrop> privilege_drop(const Settings& s) {
    util::PrivilegeDrop d;
    if (const auto& u = s.user) {
        auto found = util::find_user(u->name);
        if (!found) return util::fail(located(u->where, u->field, found.error().to_string()));
        d.user = std::move(*found);
    }
    d.keep = util::capability_bit(CAP_NET_ADMIN);
    if (below_1024(s.listen_port) || below_1024(s.listen_tcp_port))
        d.keep |= util::capability_bit(CAP_NET_BIND_SERVICE);
    return d;
}

std::vector<std::string> unreadable_by(const util::UserIds& user, const std::string& path,
                                       const Settings& settings) {
    std::vector<std::string> out;
    if (user.uid == 0) return out;
    std::vector<std::string> files{path};
    files.insert(files.end(), settings.key_files.begin(), settings.key_files.end());
    for (const std::string& f : files)
        if (std::string why = why_unreadable(user, f); !why.empty())
            out.push_back(f + ": user " + user.name + ": " + why);
    return out;
}

std::string describe(const util::PrivilegeState& state, const util::PrivilegeDrop& drop) {
    std::string who = "uid " + std::to_string(state.uid) + ", gid " + std::to_string(state.gid);
    if (drop.user && drop.user->uid == state.uid)
        who = "user " + drop.user->name + " (" + who + ")";
    else if (const passwd* pw = ::getpwuid(state.uid))
        who = "user " + std::string(pw->pw_name) + " (" + who + ")";
    return who + ", capabilities " + util::capability_names(state.effective) +
           (state.no_new_privs ? ", no new privileges" : "");
}

}  // namespace ringtun::daemon
