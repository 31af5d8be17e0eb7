#include "daemon/cli/tune/lab.hpp"

#include <fcntl.h>
#include <net/if.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "crypto/rng.hpp"
#include "crypto/x25519.hpp"
#include "daemon/cli/tune/interrupt.hpp"
#include "daemon/cli/tune/lab_sockets.hpp"

namespace ringtun::daemon::tune {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::uint16_t kReadyPort = 5299;
constexpr const char* kPrefix = "ringtun-tune-";
constexpr const char* kTunName = "rtune";
constexpr std::uint16_t kWireGuardPort = 51820;

// Namespaces "ringtun-tune-PID-a|b" whose PID no longer exists: a run killed by SIGKILL.
void remove_stale() {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/run/netns", ec)) {
        const std::string name = e.path().filename();
        if (!name.starts_with(kPrefix) || name.size() < 16) continue;
        char* end = nullptr;
        const long pid = std::strtol(name.c_str() + std::strlen(kPrefix), &end, 10);
        if (pid <= 0 || (std::string(end) != "-a" && std::string(end) != "-b")) continue;
        if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
        std::fprintf(stderr, "ringtun tune: removing %s, left by an earlier run (pid %ld)\n",
                     name.c_str(), pid);
        (void)run_ip({"netns", "del", name});
    }
}

util::Result<util::UniqueFd> open_netns(const std::string& name) {
    const std::string path = "/run/netns/" + name;
    util::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return util::fail(util::sys_error("open " + path, errno));
    return fd;
}

std::string private_dir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/ringtun-tune-XXXXXX";
    return ::mkdtemp(templ.data()) != nullptr ? templ : std::string();  // mode 0700
}

// The last error the daemon logged ("<3>..."), else its last line.
std::string last_words(const std::string& log) {
    std::ifstream in(log);
    std::string line, last, last_error;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        last = line;
        if (line.starts_with("<3>")) last_error = line.substr(3);
    }
    return !last_error.empty() ? last_error : last.empty() ? "no output" : last;
}

// A datagram socket at `path` for a daemon's sd_notify messages.
util::Result<util::UniqueFd> notify_socket(const std::string& path) {
    util::UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd) return util::fail(util::sys_error("socket AF_UNIX", errno));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path)
        return util::fail(util::make_error(path, "too long for a socket path (set TMPDIR)"));
    std::memcpy(addr.sun_path, path.c_str(), path.size());
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
        return util::fail(util::sys_error("bind " + path, errno));
    return fd;
}

// Whether a READY=1 is among the messages waiting on `fd`.
bool ready_said(int fd) {
    char buf[512];
    bool ready = false;
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf - 1, 0)) > 0;) {
        buf[n] = '\0';
        ready = ready || std::strstr(buf, "READY=1") != nullptr;
    }
    return ready;
}

// Whether what a stopped daemon held in the namespace is gone: its TUN ("rtune") and UDP
// port 51820. io_uring frees a ring, and the files registered in it, on a kernel worker
// after the process has exited, so both may outlive the process by some milliseconds, and a
// daemon started at once would find them taken.
bool released(int netns_fd) {
    auto s = socket_in(netns_fd, SOCK_DGRAM);
    if (!s) return false;
    ifreq ifr{};
    std::memcpy(ifr.ifr_name, kTunName, std::strlen(kTunName));
    if (::ioctl(s->get(), SIOCGIFINDEX, &ifr) == 0) return false;
    const sockaddr_in any = ipv4("0.0.0.0", kWireGuardPort);
    return ::bind(s->get(), reinterpret_cast<const sockaddr*>(&any), sizeof any) == 0;
}

std::string config_text(const crypto::PrivateKey& own, const crypto::PrivateKey& peer, char side,
                        const std::vector<std::string>& ring) {
    const bool a = side == 'a';
    std::string t = std::string("[interface]\nname = \"") + kTunName + "\"\nprivate_key = \"" +
                    crypto::key_to_base64(own.span()) +
                    "\"\nlisten_port = " + std::to_string(kWireGuardPort) + "\n";
    t += std::string("address = [\"") + (a ? kTunnelA : kTunnelB) + "/24\"]\n";
    t += "control_socket = false\ntable = \"off\"\n\n[ring]\n";
    for (const std::string& l : ring)
        t += l + "\n";
    t += "\n[[peer]]\npublic_key = \"" +
         crypto::key_to_base64(crypto::derive_public_key(peer).span()) + "\"\n";
    t += std::string("endpoint = \"10.99.0.") + (a ? "2" : "1") + ":" +
         std::to_string(kWireGuardPort) + "\"\n";
    t += std::string("allowed_ips = [\"") + (a ? kTunnelB : kTunnelA) + "/32\"]\n";
    return t;
}

}  // namespace

util::Result<std::unique_ptr<Lab>> Lab::create() {
    remove_stale();
    std::unique_ptr<Lab> lab(new Lab());
    if (auto r = lab->build(); !r) return util::fail(r.error());
    return lab;
}

util::Result<void> Lab::build() {
    const std::string base = kPrefix + std::to_string(::getpid());
    name_a_ = base + "-a";
    name_b_ = base + "-b";
    dir_ = private_dir();
    if (dir_.empty()) return util::fail(util::sys_error("mkdtemp", errno));
    crypto::SystemRng rng;
    key_a_ = crypto::generate_private_key(rng);
    key_b_ = crypto::generate_private_key(rng);
    const std::vector<std::vector<std::string>> steps = {
        {"netns", "add", name_a_},
        {"netns", "add", name_b_},
        {"-n", name_a_, "link", "set", "lo", "up"},
        {"-n", name_b_, "link", "set", "lo", "up"},
        {"-n", name_a_, "link", "add", "veth0", "type", "veth", "peer", "name", "veth0", "netns",
         name_b_},
        {"-n", name_a_, "addr", "add", "10.99.0.1/24", "dev", "veth0"},
        {"-n", name_b_, "addr", "add", "10.99.0.2/24", "dev", "veth0"},
        {"-n", name_a_, "link", "set", "veth0", "up"},
        {"-n", name_b_, "link", "set", "veth0", "up"}};
    for (const std::vector<std::string>& step : steps) {
        if (interrupted()) return util::fail(util::make_error("lab", "interrupted"));
        if (auto r = run_ip(step); !r) return r;
    }
    auto a = open_netns(name_a_);
    if (!a) return util::fail(a.error());
    auto b = open_netns(name_b_);
    if (!b) return util::fail(b.error());
    ns_a_ = std::move(*a);
    ns_b_ = std::move(*b);
    auto na = notify_socket(dir_ + "/notify-a");
    if (!na) return util::fail(na.error());
    auto nb = notify_socket(dir_ + "/notify-b");
    if (!nb) return util::fail(nb.error());
    notify_a_ = std::move(*na);
    notify_b_ = std::move(*nb);
    return {};
}

Lab::~Lab() {
    stop();
    ns_a_.reset();
    ns_b_.reset();
    // Whatever exists of ours, however far build() got.
    std::error_code ec;
    for (const std::string& name : {name_a_, name_b_})
        if (!name.empty() && std::filesystem::exists("/run/netns/" + name, ec))
            if (auto r = run_ip({"netns", "del", name}); !r)
                std::fprintf(stderr, "ringtun tune: %s\n", r.error().to_string().c_str());
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

util::Result<void> Lab::write_config(char side, const std::vector<std::string>& ring) const {
    const std::string path = dir_ + "/" + side + ".toml";
    std::string text = side == 'a' ? config_text(key_a_, key_b_, 'a', ring)
                                   : config_text(key_b_, key_a_, 'b', ring);
    util::UniqueFd fd(
        ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
    const bool ok =
        fd && ::write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size());
    const int err = errno;
    OPENSSL_cleanse(text.data(), text.size());
    if (!ok) return util::fail(util::sys_error("write " + path, err));
    return {};
}

util::Result<void> Lab::start(const std::vector<std::string>& ring) {
    stop();
    if (auto r = wait_released(); !r) return r;
    ready_said(notify_a_.get());  // what the daemons before these said
    ready_said(notify_b_.get());
    for (char side : {'a', 'b'}) {
        if (auto r = write_config(side, ring); !r) return r;
        const std::string base = dir_ + "/" + side;
        auto child = Child::start_in(side == 'a' ? netns_a() : netns_b(), {"run", base + ".toml"},
                                     base + ".log", {"NOTIFY_SOCKET=" + dir_ + "/notify-" + side});
        if (!child) return util::fail(child.error());
        (side == 'a' ? daemon_a_ : daemon_b_).emplace(std::move(*child));
    }
    if (auto r = wait_notified(); !r) return r;
    return wait_crossing();
}

void Lab::stop() noexcept {
    // Both asked at once, so they stop in parallel.
    if (daemon_a_ && daemon_a_->pid() > 0) ::kill(daemon_a_->pid(), SIGTERM);
    if (daemon_b_ && daemon_b_->pid() > 0) ::kill(daemon_b_->pid(), SIGTERM);
    daemon_a_.reset();
    daemon_b_.reset();
}

util::Result<void> Lab::check_daemons() {
    for (char side : {'a', 'b'}) {
        auto& d = side == 'a' ? daemon_a_ : daemon_b_;
        if (d && d->running()) continue;
        const std::string& ns = side == 'a' ? name_a_ : name_b_;
        return util::fail(util::make_error("ringtun run in " + ns,
                                           "exited: " + last_words(dir_ + "/" + side + ".log")));
    }
    if (interrupted()) return util::fail(util::make_error("lab", "interrupted"));
    return {};
}

util::Result<void> Lab::wait_released() {
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    while (!released(netns_a()) || !released(netns_b())) {
        if (interrupted()) return util::fail(util::make_error("lab", "interrupted"));
        if (Clock::now() >= deadline)
            return util::fail(util::make_error(
                "lab", "the stopped daemons' TUN or UDP port was not released within 5 s"));
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return {};
}

util::Result<void> Lab::wait_notified() {
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    bool a = false, b = false;
    while (!(a && b)) {
        if (auto r = check_daemons(); !r) return r;
        if (Clock::now() >= deadline)
            return util::fail(util::make_error("lab", "the daemons did not say READY=1 in 10 s"));
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        a = ready_said(notify_a_.get()) || a;
        b = ready_said(notify_b_.get()) || b;
    }
    return {};
}

// Probes from A to B every 100 ms: the first starts the handshake, one arrives once it is
// done.
util::Result<void> Lab::wait_crossing() {
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    auto rx = socket_in(netns_b(), SOCK_DGRAM);
    auto tx = socket_in(netns_a(), SOCK_DGRAM);
    if (!rx) return util::fail(rx.error());
    if (!tx) return util::fail(tx.error());
    const sockaddr_in to = ipv4(kTunnelB, kReadyPort);
    if (auto r = set_timeouts(rx->get(), 100); !r) return r;
    if (auto r = bind_to(rx->get(), to); !r) return r;
    while (Clock::now() < deadline) {
        if (auto r = check_daemons(); !r) return r;
        (void)::sendto(tx->get(), "ready", 5, MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&to),
                       sizeof to);
        char buf[16];
        if (::recv(rx->get(), buf, sizeof buf, 0) > 0) return {};
    }
    return util::fail(
        util::make_error("lab", "no datagram crossed the tunnel within 10 s (no handshake?)"));
}

}  // namespace ringtun::daemon::tune
