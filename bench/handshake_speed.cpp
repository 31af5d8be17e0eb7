// ringtun-handshake-bench: the engine's handshake processing on one core, without I/O.
//
//   ringtun-handshake-bench [--seconds S (3)] [--peers N (10000)] [--phase P (all)]
//
// P is all, dh, responder or cookie: one phase alone, for a profiler (perf record) to see it
// apart from the others.
// A Device (the daemon's sans-IO engine) with N configured peers is fed, in memory:
//   (a) responder: initiations from distinct configured peers (each valid: mac1, a fresh
//       timestamp), every one answered with a response and a new session, as the daemon does
//       when not under load. Measured: responses per second.
//   (b) cookie replies: the same initiations while the device is under load (mac1 valid, no
//       mac2), each answered with a cookie reply and no Diffie-Hellman. Measured: replies per
//       second.
// The initiations are made beforehand by the peers' own Handshake state, in batches, and that
// time is not counted. Times are the thread's user CPU time, which is what `openssl speed`
// counts of its own (without -elapsed): on a shared machine the figure stays per core, and
// the time the kernel spends on the thread (interrupts landing in it, page faults) is left
// out of both; the bench prints that time's share. Also printed: the resident memory each
// peer's first session adds (its untimed first handshake), and X25519 operations per
// second through crypto::X25519Key with both keys kept in OpenSSL's form: the cost of one
// operation as the engine performs it, to set against `openssl speed ecdhx25519`.
#include <arpa/inet.h>

#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "crypto/cookie.hpp"
#include "crypto/noise.hpp"
#include "crypto/x25519.hpp"
#include "daemon/engine/device.hpp"
#include "util/log.hpp"

using namespace ringtun;

namespace {

// Takes every message the device sends and counts it by type.
class CountingSink final : public daemon::MessageSink {
  public:
    daemon::TxBuffer acquire(std::size_t size, daemon::TxClass) noexcept override {
        if (size > buffer_.size()) return {};
        return {1, buffer_};
    }
    void commit(const daemon::TxBuffer& b, const daemon::Endpoint&, std::size_t) noexcept override {
        ++sent[b.message[0] & 3];
    }
    void cancel(const daemon::TxBuffer&) noexcept override {}
    bool has_room(daemon::TxClass) const noexcept override { return true; }

    std::uint64_t sent[4]{};  // by message type: 1 initiation, 2 response, 3 cookie reply

  private:
    std::array<std::uint8_t, 256> buffer_{};
};

// One configured peer as it initiates: its identity and its side of the handshake.
struct Initiator {
    crypto::Identity identity;
    std::unique_ptr<crypto::Handshake> handshake;
    std::unique_ptr<crypto::CookieMaker> cookies;
    daemon::Endpoint from;
};

daemon::Endpoint endpoint_for(std::size_t i) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(51820);
    sa.sin_addr.s_addr = htonl(0xc6120000u + static_cast<std::uint32_t>(i) + 1);  // 198.18/15
    return daemon::Endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&sa), sizeof sa);
}

struct Options {
    double seconds = 3;
    std::size_t peers = 10000;
    std::string phase = "all";

    bool runs(const char* p) const { return phase == "all" || phase == p; }
};

[[noreturn]] void usage() {
    std::fprintf(stderr,
                 "usage: ringtun-handshake-bench [--seconds S] [--peers N] "
                 "[--phase all|dh|responder|cookie]\n");
    std::exit(2);
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string arg = argv[i];
        if (arg == "--seconds") {
            o.seconds = std::atof(argv[i + 1]);
        } else if (arg == "--peers") {
            o.peers = static_cast<std::size_t>(std::atol(argv[i + 1]));
        } else if (arg == "--phase") {
            o.phase = argv[i + 1];
        } else {
            usage();
        }
    }
    const bool known =
        o.phase == "all" || o.phase == "dh" || o.phase == "responder" || o.phase == "cookie";
    if (argc % 2 == 0 || o.seconds <= 0 || o.peers < 1 || !known) usage();
    return o;
}

// One initiation from each of `count` initiators starting at `first` (cycling), made at `now`.
std::vector<crypto::MessageInitiation> make_batch(std::vector<Initiator>& peers, std::size_t first,
                                                  std::size_t count, const daemon::Now& now,
                                                  crypto::Rng& rng) {
    std::vector<crypto::MessageInitiation> batch(count);
    for (std::size_t k = 0; k < count; ++k) {
        Initiator& p = peers[(first + k) % peers.size()];
        const crypto::Reject r = p.handshake->create_initiation(
            batch[k], crypto::generate_private_key(rng), static_cast<std::uint32_t>(k + 1),
            crypto::tai64n_from_unix_ns(now.unix_ns));
        if (r != crypto::Reject::none) std::abort();
        p.cookies->add_macs(crypto::message_bytes(batch[k]), now.boot);
    }
    return batch;
}

// "reason=count ..." of the device's non-zero drop counters.
std::string drops_text(const daemon::Device& device) {
    std::string out;
    for (std::size_t d = 0; d < static_cast<std::size_t>(daemon::Drop::count_); ++d) {
        const auto why = static_cast<daemon::Drop>(d);
        if (const std::uint64_t n = device.counters().drops.get(why); n != 0)
            out += std::string(out.empty() ? "" : " ") + daemon::to_string(why) + '=' +
                   std::to_string(n);
    }
    return out;
}

double seconds_of(const timeval& tv) {
    return double(tv.tv_sec) + double(tv.tv_usec) * 1e-6;
}

// CPU time of this thread: user and system seconds.
struct Cpu {
    double user = 0, system = 0;
    Cpu operator-(const Cpu& o) const { return {user - o.user, system - o.system}; }
    Cpu& operator+=(const Cpu& o) {
        user += o.user;
        system += o.system;
        return *this;
    }
};

Cpu cpu_now() {
    rusage ru{};
    getrusage(RUSAGE_THREAD, &ru);
    return {seconds_of(ru.ru_utime), seconds_of(ru.ru_stime)};
}

// User CPU seconds since `since`: what the figures count, as `openssl speed` counts its own.
double cpu_s(const Cpu& since) {
    return (cpu_now() - since).user;
}

// CPU time over exactly the intervals the figures count: its system part is what they leave
// out (setup, the untimed pass and the making of the messages are not in it).
Cpu counted;

// One initiation from each of `count` initiators starting at `first`, made one second on (no
// peer meets the 20 ms flood limit), fed to the device. Returns the CPU time the device took.
Cpu feed_batch(daemon::Device& device, std::vector<Initiator>& peers, std::size_t first,
               std::size_t count, crypto::Rng& rng, daemon::Now& now) {
    now.boot += crypto::seconds_ns(1);
    now.unix_ns += 1'000'000'000;
    auto batch = make_batch(peers, first, count, now, rng);
    const Cpu start = cpu_now();
    for (std::size_t k = 0; k < batch.size(); ++k) {
        auto bytes = crypto::message_bytes(batch[k]);
        device.on_network_packet(bytes, peers[(first + k) % peers.size()].from, now);
        now.boot += 1000;
    }
    return cpu_now() - start;
}

// This process's resident memory in bytes (VmRSS), or 0 if unreadable.
std::size_t rss_bytes() {
    std::FILE* f = std::fopen("/proc/self/status", "r");
    if (!f) return 0;
    char line[256];
    std::size_t kib = 0;
    while (std::fgets(line, sizeof line, f))
        if (std::sscanf(line, "VmRSS: %zu kB", &kib) == 1) break;
    std::fclose(f);
    return kib * 1024;
}

// The untimed first pass: one handshake with every peer, whose first handshake also computes
// DH(our static, its static), once for its life (the kernel does it when the peer is added,
// ringtun when it first needs it), so that the timed figure is the steady state. Every
// initiation is made before any is fed, so that the resident memory's growth while the device
// answers them is the device's: each peer's session (waiting in `next`, as the responder's
// does until the first data) and its handshake state. Returns that growth per peer, in bytes.
double first_pass(daemon::Device& device, std::vector<Initiator>& peers, crypto::Rng& rng,
                  daemon::Now& now) {
    now.boot += crypto::seconds_ns(1);
    now.unix_ns += 1'000'000'000;
    auto all = make_batch(peers, 0, peers.size(), now, rng);
    const std::size_t before = rss_bytes();
    for (std::size_t k = 0; k < all.size(); ++k) {
        auto bytes = crypto::message_bytes(all[k]);
        device.on_network_packet(bytes, peers[k].from, now);
        now.boot += 1000;
    }
    const std::size_t after = rss_bytes();
    return (double(after) - double(before)) / double(peers.size());
}

// (a): batches of initiations, each peer once per batch, after first_pass. Returns handshakes
// per second.
double responder_rate(daemon::Device& device, CountingSink& sink, std::vector<Initiator>& peers,
                      double seconds, crypto::Rng& rng, daemon::Now& now) {
    const std::size_t batch_size = std::min<std::size_t>(peers.size(), 1000);
    std::printf("resident memory per peer for its first session: %.0f bytes\n",
                first_pass(device, peers, rng, now));
    std::size_t first = 0, fed = 0;
    Cpu busy;
    const std::uint64_t before = sink.sent[2];
    while (busy.user < seconds) {
        busy += feed_batch(device, peers, first, batch_size, rng, now);
        fed += batch_size;
        first += batch_size;
    }
    counted += busy;
    const std::uint64_t answered = sink.sent[2] - before;
    if (answered != fed)
        std::printf("  warning: %llu of %zu initiations were not answered (drops: %s)\n",
                    static_cast<unsigned long long>(fed - answered), fed,
                    drops_text(device).c_str());
    return double(answered) / busy.user;
}

// (b): the device under load: the same kind of initiations, without mac2, from many sources.
double cookie_rate(daemon::Device& device, CountingSink& sink, std::vector<Initiator>& peers,
                   double seconds, crypto::Rng& rng, daemon::Now& now) {
    device.set_load_threshold(0);
    now.boot += crypto::seconds_ns(1);
    now.unix_ns += 1'000'000'000;
    const auto batch = make_batch(peers, 0, std::min<std::size_t>(peers.size(), 1000), now, rng);
    crypto::MessageInitiation work;
    const std::uint64_t before = sink.sent[3];
    std::uint64_t fed = 0;
    const Cpu start = cpu_now();
    while (cpu_s(start) < seconds) {
        for (int k = 0; k < 1000; ++k, ++fed) {
            work = batch[fed % batch.size()];
            device.on_network_packet(crypto::message_bytes(work), peers[fed % peers.size()].from,
                                     now);
            now.boot += 1000;
        }
    }
    const Cpu busy = cpu_now() - start;
    counted += busy;
    const std::uint64_t replied = sink.sent[3] - before;
    if (replied != fed)
        std::printf("  warning: %llu of %llu initiations got no cookie reply\n",
                    static_cast<unsigned long long>(fed - replied),
                    static_cast<unsigned long long>(fed));
    return double(replied) / busy.user;
}

double dh_rate(double seconds, crypto::Rng& rng) {
    auto a = crypto::X25519Key::create(crypto::generate_private_key(rng));
    const crypto::X25519Public b(crypto::derive_public_key(crypto::generate_private_key(rng)));
    crypto::SymmetricKey out;
    std::uint64_t n = 0;
    const Cpu start = cpu_now();
    while (cpu_s(start) < seconds) {
        for (int k = 0; k < 100; ++k, ++n)
            if (!a.dh(out, b)) std::abort();
    }
    const Cpu busy = cpu_now() - start;
    counted += busy;
    return double(n) / busy.user;
}

}  // namespace

int main(int argc, char** argv) {
    const Options o = parse(argc, argv);
    util::log::set_min_level(util::log::Level::warning);  // not a line per peer created
    crypto::SystemRng rng;
    CountingSink sink;
    const crypto::PrivateKey responder_key = crypto::generate_private_key(rng);
    daemon::Device device(responder_key, 1420, sink, rng);
    device.set_load_threshold(~std::uint32_t{0});
    const crypto::PublicKey responder_public = device.identity().public_key;

    const Cpu setup = cpu_now();
    std::vector<Initiator> peers(o.peers);
    for (std::size_t i = 0; i < o.peers; ++i) {
        Initiator& p = peers[i];
        p.identity = crypto::Identity::create(crypto::generate_private_key(rng));
        p.handshake = std::make_unique<crypto::Handshake>(p.identity, responder_public,
                                                          crypto::SymmetricKey());
        p.cookies = std::make_unique<crypto::CookieMaker>(responder_public);
        p.from = endpoint_for(i);
        if (!device.add_peer(p.identity.public_key, crypto::SymmetricKey(), 0, std::nullopt))
            std::abort();
    }
    std::printf("%zu peers configured in %.2f user CPU s (both sides' keys and handshake state)\n",
                o.peers, cpu_s(setup));

    daemon::Now now{crypto::seconds_ns(1000), 1'700'000'000'000'000'000ull};
    if (o.runs("dh"))
        std::printf("X25519Key::dh: %.0f ops/s (user CPU time)\n",
                    dh_rate(std::min(o.seconds, 1.0), rng));
    double responder = 0;
    if (o.runs("responder")) {
        responder = responder_rate(device, sink, peers, o.seconds, rng, now);
        std::printf("responder handshakes: %.0f/s (%.1f us each), %zu peers\n", responder,
                    1e6 / responder, o.peers);
    }
    if (o.runs("cookie")) {
        const double cookies = cookie_rate(device, sink, peers, o.seconds, rng, now);
        std::printf("cookie replies under load: %.0f/s (%.1f us each)", cookies, 1e6 / cookies);
        if (responder > 0) std::printf(", %.1fx the responder rate", cookies / responder);
        std::printf("\n");
    }
    if (counted.user > 0)
        std::printf(
            "system CPU time in the timed intervals (not counted above): %.1f%% of "
            "their user time\n",
            100 * counted.system / counted.user);
}
