// Whether io_uring is permitted here, and why not; see availability.hpp.
#include "ring/availability.hpp"

#include <fcntl.h>
#include <liburing.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <vector>

#include "util/result.hpp"
#include "util/unique_fd.hpp"

namespace ringtun::ring {

namespace {

constexpr const char* kDisabledPath = "/proc/sys/kernel/io_uring_disabled";
constexpr const char* kGroupPath = "/proc/sys/kernel/io_uring_group";
constexpr const char* kStatusPath = "/proc/self/status";
constexpr unsigned kCapSysAdmin = 21;  // <linux/capability.h>

// The contents of a small file (procfs: one read may return less, so read to the end);
// nullopt if it cannot be opened or read.
std::optional<std::string> read_small_file(const char* path) {
    util::UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
    if (!fd) return std::nullopt;
    std::string out;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return std::nullopt;
        if (n == 0) return out;
        out.append(buf, static_cast<std::size_t>(n));
    }
}

// As the kernel's in_group_p(): the (file system, here effective) gid or a supplementary one.
bool in_group(long gid) {
    if (gid < 0) return false;
    if (static_cast<long>(::getegid()) == gid) return true;
    const int n = ::getgroups(0, nullptr);
    if (n <= 0) return false;
    std::vector<gid_t> groups(static_cast<std::size_t>(n));
    const int got = ::getgroups(n, groups.data());
    for (int i = 0; i < got; ++i)
        if (static_cast<long>(groups[static_cast<std::size_t>(i)]) == gid) return true;
    return false;
}

// Tries the three io_uring system calls in the order the daemon makes them; records the first
// that fails.
void try_io_uring(IoUringFacts& facts) {
    io_uring ring{};
    if (const int r = io_uring_queue_init(2, &ring, 0); r < 0) {
        facts.failed_call = "io_uring_setup";
        facts.error = -r;
        return;
    }
    // A probe of no opcodes: the call is what is tested (the kernel fills in the header only).
    io_uring_probe probe{};
    if (const int r = io_uring_register_probe(&ring, &probe, 0); r < 0) {
        facts.failed_call = "io_uring_register";
        facts.error = -r;
    } else {
        io_uring_prep_nop(io_uring_get_sqe(&ring));
        if (const int e = io_uring_submit_and_wait(&ring, 1); e < 0) {
            facts.failed_call = "io_uring_enter";
            facts.error = -e;
        }
    }
    io_uring_queue_exit(&ring);
}

std::string call_error(const IoUringFacts& f) {
    return std::string(f.failed_call) + ": " + util::errno_name(f.error);
}

// Whether kernel.io_uring_disabled explains an EPERM from io_uring_setup.
bool sysctl_refuses(const IoUringFacts& f) {
    if (f.sysctl_disabled == 2) return true;
    return f.sysctl_disabled == 1 && !f.cap_sys_admin && !f.in_sysctl_group;
}

std::string sysctl_reason(const IoUringFacts& f) {
    if (f.sysctl_disabled == 2)
        return "kernel.io_uring_disabled = 2: io_uring is disabled for every process (" +
               call_error(f) + ")";
    const std::string group =
        f.sysctl_group && *f.sysctl_group >= 0
            ? "kernel.io_uring_group (gid " + std::to_string(*f.sysctl_group) + ")"
            : "kernel.io_uring_group (none set)";
    return "kernel.io_uring_disabled = 1: only processes with CAP_SYS_ADMIN or in " + group +
           " may create rings, and this one has neither (" + call_error(f) + ")";
}

std::string usable_reason(const IoUringFacts& f) {
    std::string r = "io_uring_setup, io_uring_register and io_uring_enter succeeded";
    if (f.sysctl_disabled != 1) return r;
    if (f.cap_sys_admin)
        return r + " (kernel.io_uring_disabled = 1; this process has CAP_SYS_ADMIN)";
    if (f.in_sysctl_group)
        return r + " (kernel.io_uring_disabled = 1; this process is in kernel.io_uring_group)";
    return r + " (kernel.io_uring_disabled = 1)";
}

// EPERM or EACCES: the sysctl (setup only), else a seccomp filter, else a security module.
IoUringAvailability explain_denied(const IoUringFacts& f, IoUringAvailability out) {
    const bool setup = std::string_view(f.failed_call) == "io_uring_setup";
    if (f.error == EPERM && setup && sysctl_refuses(f)) {
        out.blocker = IoUringBlocker::sysctl;
        out.reason = sysctl_reason(f);
    } else if (f.seccomp_mode == 2) {
        out.blocker = IoUringBlocker::seccomp;
        out.reason = call_error(f) +
                     " from a seccomp filter (Docker 25+ and containerd 2.0 default profiles "
                     "refuse io_uring)";
    } else {
        out.blocker = IoUringBlocker::security_module;
        out.reason = call_error(f) +
                     ", explained neither by kernel.io_uring_disabled nor by seccomp (a "
                     "security module's policy?)";
    }
    return out;
}

}  // namespace

const char* to_string(IoUringBlocker b) noexcept {
    switch (b) {
        case IoUringBlocker::none:
            return "none";
        case IoUringBlocker::sysctl:
            return "sysctl";
        case IoUringBlocker::seccomp:
            return "seccomp";
        case IoUringBlocker::not_built_in:
            return "not_built_in";
        case IoUringBlocker::security_module:
            return "security_module";
        case IoUringBlocker::other:
            return "other";
    }
    return "other";
}

IoUringAvailability explain(const IoUringFacts& f) {
    IoUringAvailability out;
    out.sysctl_disabled = f.sysctl_disabled;
    out.sysctl_group = f.sysctl_group;
    out.seccomp_mode = f.seccomp_mode;
    out.failed_call = f.failed_call;
    out.error = f.failed_call ? f.error : 0;
    if (f.failed_call == nullptr) {
        out.usable = true;
        out.blocker = IoUringBlocker::none;
        out.reason = usable_reason(f);
        return out;
    }
    if (f.error == EPERM || f.error == EACCES) return explain_denied(f, std::move(out));
    if (f.error == ENOSYS) {
        // Some seccomp profiles answer ENOSYS for calls they do not know.
        out.blocker = f.seccomp_mode == 2 ? IoUringBlocker::seccomp : IoUringBlocker::not_built_in;
        out.reason = call_error(f) + (f.seccomp_mode == 2
                                          ? ": the kernel lacks io_uring or a seccomp filter "
                                            "hides it"
                                          : ": the kernel is built without io_uring "
                                            "(CONFIG_IO_URING)");
        return out;
    }
    out.blocker = IoUringBlocker::other;
    out.reason = call_error(f) + (f.error == ENOMEM
                                      ? ": not enough locked memory for a ring (RLIMIT_MEMLOCK; "
                                        "kernels before 5.12 charge rings to it)"
                                      : "");
    return out;
}

IoUringAvailability check_io_uring() {
    IoUringFacts facts;
    if (auto text = read_small_file(kDisabledPath))
        facts.sysctl_disabled = parse_io_uring_disabled(*text);
    if (auto text = read_small_file(kGroupPath)) facts.sysctl_group = parse_sysctl_integer(*text);
    if (auto status = read_small_file(kStatusPath)) {
        facts.seccomp_mode = parse_seccomp_mode(*status);
        if (auto caps = parse_effective_caps(*status))
            facts.cap_sys_admin = (*caps >> kCapSysAdmin) & 1U;
    }
    if (facts.sysctl_group) facts.in_sysctl_group = in_group(*facts.sysctl_group);
    try_io_uring(facts);
    return explain(facts);
}

std::optional<long> parse_sysctl_integer(std::string_view s) noexcept {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
        s.remove_suffix(1);
    long v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
    return v;
}

std::optional<int> parse_io_uring_disabled(std::string_view contents) noexcept {
    const auto v = parse_sysctl_integer(contents);
    if (!v || *v < 0 || *v > 2) return std::nullopt;
    return static_cast<int>(*v);
}

std::optional<std::string_view> status_field(std::string_view status,
                                             std::string_view name) noexcept {
    while (!status.empty()) {
        const auto eol = status.find('\n');
        std::string_view line = status.substr(0, eol);
        status = eol == std::string_view::npos ? std::string_view{} : status.substr(eol + 1);
        if (line.size() <= name.size() || !line.starts_with(name) || line[name.size()] != ':')
            continue;
        line.remove_prefix(name.size() + 1);
        while (!line.empty() && (line.front() == '\t' || line.front() == ' '))
            line.remove_prefix(1);
        return line;
    }
    return std::nullopt;
}

std::optional<int> parse_seccomp_mode(std::string_view status) noexcept {
    const auto field = status_field(status, "Seccomp");
    if (!field) return std::nullopt;
    const auto v = parse_sysctl_integer(*field);
    if (!v || *v < 0 || *v > 2) return std::nullopt;
    return static_cast<int>(*v);
}

std::optional<std::uint64_t> parse_effective_caps(std::string_view status) noexcept {
    const auto field = status_field(status, "CapEff");
    if (!field || field->empty()) return std::nullopt;
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(field->data(), field->data() + field->size(), v, 16);
    if (ec != std::errc{} || end != field->data() + field->size()) return std::nullopt;
    return v;
}

}  // namespace ringtun::ring
