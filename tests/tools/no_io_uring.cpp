// no_io_uring COMMAND [ARG...]: runs COMMAND where io_uring is refused as Docker 25+ and
// containerd 2.0's default seccomp profiles refuse it: io_uring_setup, io_uring_enter and
// io_uring_register fail with EPERM, every other system call is allowed. For tests of the
// daemon's fallback and of `ringtun probe`; the filter is inherited by COMMAND's children.
//
// The filter is classic BPF over struct seccomp_data (Documentation/userspace-api/seccomp_
// filter.rst). A system call number means something only together with the ABI it was made
// through, so the filter checks `arch` first: the native ABI and the compat one (i386 on
// x86-64, 32-bit ARM on arm64) are handled, any other ABI kills the process rather than be
// matched against numbers that are not its own. io_uring has the same numbers (425-427) in
// every one of these ABIs (the unified table since Linux 5.1); x32 calls arrive under
// AUDIT_ARCH_X86_64 with __X32_SYSCALL_BIT set, so that bit is masked off before comparing
// (for i386 the mask changes nothing: its numbers never have that bit).
//
// Exit status: COMMAND's (it replaces this process), 127 if it cannot be executed, 1 if the
// filter cannot be installed, 2 for a usage error.
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>

namespace {

#if defined(__x86_64__)
constexpr unsigned kNativeArch = AUDIT_ARCH_X86_64;
constexpr unsigned kCompatArch = AUDIT_ARCH_I386;
constexpr unsigned kNumberMask = ~0x40000000U;  // ~__X32_SYSCALL_BIT
#elif defined(__aarch64__)
constexpr unsigned kNativeArch = AUDIT_ARCH_AARCH64;
constexpr unsigned kCompatArch = AUDIT_ARCH_ARM;
constexpr unsigned kNumberMask = ~0U;
#else
#error "no_io_uring: add this architecture's AUDIT_ARCH_* values"
#endif

static_assert(__NR_io_uring_setup == 425 && __NR_io_uring_enter == 426 &&
                  __NR_io_uring_register == 427,
              "io_uring's system call numbers are unified across ABIs");

constexpr unsigned kArch = offsetof(seccomp_data, arch);
constexpr unsigned kNr = offsetof(seccomp_data, nr);

// Jump offsets count instructions after the jump itself.
const sock_filter kFilter[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kArch),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kNativeArch, 2, 0),  // -> load the number
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kCompatArch, 1, 0),  // -> load the number
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),     // an ABI we know nothing of
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kNr),
    BPF_STMT(BPF_ALU | BPF_AND | BPF_K, kNumberMask),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 3, 0),     // -> EPERM
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_enter, 2, 0),     // -> EPERM
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_register, 1, 0),  // -> EPERM
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
};

bool install_filter() {
    sock_fprog prog{};
    prog.len = static_cast<unsigned short>(sizeof kFilter / sizeof kFilter[0]);
    prog.filter = const_cast<sock_filter*>(kFilter);
    // Required of a process without CAP_SYS_ADMIN, and harmless with it: COMMAND cannot gain
    // privileges through exec (set-user-ID bits are ignored).
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        std::fprintf(stderr, "no_io_uring: PR_SET_NO_NEW_PRIVS: %s\n", std::strerror(errno));
        return false;
    }
    if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
        std::fprintf(stderr, "no_io_uring: PR_SET_SECCOMP: %s\n", std::strerror(errno));
        return false;
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || std::strcmp(argv[1], "--help") == 0) {
        std::fputs(
            "Usage: no_io_uring COMMAND [ARG...]\n"
            "Runs COMMAND with io_uring_setup, io_uring_enter and io_uring_register failing\n"
            "with EPERM (a seccomp filter, as container runtimes' default profiles do).\n",
            argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!install_filter()) return 1;
    ::execvp(argv[1], argv + 1);
    std::fprintf(stderr, "no_io_uring: %s: %s\n", argv[1], std::strerror(errno));
    return 127;
}
