// Log formatting and the non-blocking sink; see log.hpp.
//
// The sink depends on what the fd (standard error) is, found by fstat once, in open_sink() or
// the first write():
//  - A socket (journald's stream, systemd's default for services): send() with
//    MSG_DONTWAIT | MSG_NOSIGNAL. Both flags hold for this call alone, so the file
//    description, which the service manager and other processes share, keeps its mode.
//  - A pipe/FIFO or a character device (a tty): a new open file description from
//    /proc/self/fd/N, opened with O_NONBLOCK. For these, open() through /proc creates a
//    description of our own, unlike dup(). Setting O_NONBLOCK on fd 2 itself would change the
//    description shared with the parent (a shell writing to the same pipe would then get
//    EAGAIN), and poll-then-write would still block when another writer filled the pipe in
//    between. A line is at most PIPE_BUF bytes, so a pipe takes it whole or fails with
//    EAGAIN. write() has no MSG_NOSIGNAL, so when the reader is gone SIGPIPE is blocked in
//    this thread for the call and the one it raised is consumed; the daemon ignores SIGPIPE
//    as well.
//  - A regular file or anything else: plain write(); it does not wait for another process.
//  - When the reopen fails (no /proc mounted; ENXIO for a FIFO whose reader is gone): the
//    inherited fd, written only when poll() with a zero timeout reports room. That alone
//    could still block if another writer filled the pipe between poll and write; it is the
//    fallback, not the design.
#include "util/log.hpp"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstdio>

namespace ringtun::util::log {

namespace {

constexpr std::size_t max_line = 1024;
static_assert(max_line <= PIPE_BUF, "a line must reach a pipe in one atomic write");

enum class SinkKind { socket, nonblocking, polled, plain };

struct Sink {
    int fd = STDERR_FILENO;
    SinkKind kind = SinkKind::plain;
    bool fifo = false;   // writes can raise SIGPIPE
    bool owned = false;  // fd was opened here and is closed when the sink is replaced
};

std::atomic<bool> g_debug{false};
std::atomic<int> g_min_level{static_cast<int>(Level::info)};
std::atomic<std::uint64_t> g_dropped{0};
std::atomic<bool> g_sink_chosen{false};
Sink g_sink;  // written only by open_sink(), before or apart from concurrent logging

Sink choose_sink(int fd) noexcept {
    Sink s;
    s.fd = fd;
    struct stat st {};
    if (::fstat(fd, &st) != 0) return s;
    if (S_ISSOCK(st.st_mode)) {
        s.kind = SinkKind::socket;
        return s;
    }
    if (!S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode)) return s;
    s.fifo = S_ISFIFO(st.st_mode);
    char self[32];
    std::snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
    const int own = ::open(self, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (own < 0) {
        s.kind = SinkKind::polled;
        return s;
    }
    s.fd = own;
    s.kind = SinkKind::nonblocking;
    s.owned = true;
    return s;
}

void install(const Sink& s) noexcept {
    if (g_sink.owned) ::close(g_sink.fd);
    g_sink = s;
    g_sink_chosen.store(true, std::memory_order_release);
}

const Sink& sink() noexcept {
    if (!g_sink_chosen.load(std::memory_order_acquire)) {
        static const bool chosen = [] {
            if (!g_sink_chosen.load(std::memory_order_acquire)) install(choose_sink(STDERR_FILENO));
            return true;
        }();
        (void)chosen;
    }
    return g_sink;
}

// write() that raises no SIGPIPE in this process: the signal is blocked in this thread for the
// call, and one the call raised is taken off the pending set before the mask is restored. A
// SIGPIPE that was already pending stays pending.
ssize_t write_without_sigpipe(int fd, const char* data, std::size_t len) noexcept {
    sigset_t pipe_only, saved, pending;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    const bool was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_only, &saved);
    const ssize_t n = ::write(fd, data, len);
    const int err = errno;
    if (n < 0 && err == EPIPE && !was_pending) {
        const timespec zero{};
        while (sigtimedwait(&pipe_only, nullptr, &zero) < 0 && errno == EINTR) {
        }
    }
    pthread_sigmask(SIG_SETMASK, &saved, nullptr);
    errno = err;
    return n;
}

bool has_room(int fd) noexcept {
    pollfd p{fd, POLLOUT, 0};
    return ::poll(&p, 1, 0) == 1 && (p.revents & POLLOUT) != 0;
}

// True when the whole line was taken.
bool emit(const char* line, std::size_t len) noexcept {
    const Sink& s = sink();
    ssize_t n = -1;
    switch (s.kind) {
        case SinkKind::socket:
            n = ::send(s.fd, line, len, MSG_DONTWAIT | MSG_NOSIGNAL);
            break;
        case SinkKind::polled:
            if (!has_room(s.fd)) return false;
            [[fallthrough]];
        case SinkKind::nonblocking:
        case SinkKind::plain:
            n = s.fifo ? write_without_sigpipe(s.fd, line, len) : ::write(s.fd, line, len);
            break;
    }
    return n == static_cast<ssize_t>(len);
}

}  // namespace

void set_debug(bool on) noexcept {
    g_debug.store(on, std::memory_order_relaxed);
}
bool debug_enabled() noexcept {
    return g_debug.load(std::memory_order_relaxed);
}
void set_min_level(Level level) noexcept {
    g_min_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

void open_sink(int fd) noexcept {
    install(choose_sink(fd));
}

std::uint64_t dropped() noexcept {
    return g_dropped.load(std::memory_order_relaxed);
}

void write(Level level, const char* fmt, ...) noexcept {
    if (level != Level::debug &&
        static_cast<int>(level) > g_min_level.load(std::memory_order_relaxed))
        return;
    // One write(2) per line so concurrent writers do not interleave partial lines.
    char line[max_line];
    int n = std::snprintf(line, sizeof line, "<%d>", static_cast<int>(level));
    va_list ap;
    va_start(ap, fmt);
    int m = std::vsnprintf(line + n, sizeof line - static_cast<size_t>(n) - 1, fmt, ap);
    va_end(ap);
    if (m < 0) return;
    size_t len = static_cast<size_t>(n) + static_cast<size_t>(m);
    if (len > sizeof line - 2) len = sizeof line - 2;
    line[len++] = '\n';
    if (!emit(line, len)) g_dropped.fetch_add(1, std::memory_order_relaxed);
}

bool RateLimit::allow(std::uint64_t now_ns) noexcept {
    if (last_ns_ != 0 && now_ns > last_ns_) {
        tokens_ += static_cast<double>(now_ns - last_ns_) * 1e-9 * rate_;
        if (tokens_ > burst_) tokens_ = burst_;
    }
    last_ns_ = now_ns;
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
}

}  // namespace ringtun::util::log
