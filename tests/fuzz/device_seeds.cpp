// Writes the `device` target's seed corpus (checked in under tests/fuzz/seeds/device/): a
// valid message of every type for the fixture's fixed keys, each run once here to prove it
// gets the outcome its name says, and a few near misses; then runs them all again in reverse
// order and requires the same outcomes (no input's fate depends on the ones before it, which
// is what the fixture's restore and rebuild promise). Rerun it when the fixture changes:
//   build-fuzz/tests/fuzz/device_seeds tests/fuzz/seeds/device
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "crypto/cookie.hpp"
#include "crypto/transport.hpp"
#include "crypto/x25519.hpp"
#include "device_input.hpp"

using namespace ringtun;
using namespace ringtun::fuzz;
using crypto::MessageType;
using daemon::Drop;

namespace {

std::string out_dir;
DeviceFixture* fixture = nullptr;
// Every seed written and what it did, to run them again in another order.
std::vector<std::pair<Bytes, Outcome>> written;

bool same(const Outcome& x, const Outcome& y) {
    return x.peer_name == y.peer_name && x.packet == y.packet && x.drops == y.drops &&
           x.drop == y.drop && x.sent == y.sent && x.rebuilt == y.rebuilt;
}

// Writes `flags ‖ message` as seed `name` after checking its outcome with `expect`.
template <typename Expect>
void seed(const char* name, std::uint8_t flags, const Bytes& message, Expect expect) {
    Bytes input{flags};
    input.insert(input.end(), message.begin(), message.end());
    const Outcome o = run_input(*fixture, input);
    if (!expect(o)) {
        std::fprintf(stderr, "device_seeds: %s does not do what it should\n", name);
        std::exit(1);
    }
    written.emplace_back(input, o);
    const std::string path = out_dir + "/" + name;
    std::FILE* f = std::fopen(path.c_str(), "wb");
    require(f != nullptr && std::fwrite(input.data(), 1, input.size(), f) == input.size() &&
                std::fclose(f) == 0,
            "write");
}

Bytes ipv4(const std::uint8_t src[4], std::size_t total) {
    Bytes p(total, 0x5a);
    const std::uint8_t h[20] = {0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0};
    std::memcpy(p.data(), h, sizeof h);
    p[2] = static_cast<std::uint8_t>(total >> 8);
    p[3] = static_cast<std::uint8_t>(total);
    std::memcpy(p.data() + 12, src, 4);
    const std::uint8_t dst[4] = {10, 100, 0, 1};
    std::memcpy(p.data() + 16, dst, 4);
    return p;
}

Bytes ipv6(std::uint8_t last, std::size_t total) {
    Bytes p(total, 0xa5);
    std::memset(p.data(), 0, 40);
    p[0] = 0x60;
    p[4] = static_cast<std::uint8_t>((total - 40) >> 8);
    p[5] = static_cast<std::uint8_t>(total - 40);
    p[6] = 17;
    p[7] = 64;
    p[8] = 0xfd;
    p[23] = last;
    p[24] = 0xfd;
    p[39] = 1;
    return p;
}

// A data message sealed by A's side with `counter`.
Bytes data_from_a(const Bytes& packet, std::uint64_t counter) {
    Bytes m(crypto::sealed_length(packet.size(), mtu), 0);
    if (!packet.empty())
        std::memcpy(m.data() + crypto::data_header_len, packet.data(), packet.size());
    fixture->a_session().set_send_counter(counter);
    require(crypto::seal_data(fixture->a_session(), m, packet.size(), mtu).reject ==
                crypto::Reject::none,
            "seal");
    return m;
}

// The counter (2 bytes) and plaintext of a seal-mode input.
Bytes sealed(std::uint16_t counter, const Bytes& plain) {
    Bytes b{static_cast<std::uint8_t>(counter), static_cast<std::uint8_t>(counter >> 8)};
    b.insert(b.end(), plain.begin(), plain.end());
    return b;
}

// A fresh initiation from `id` (to us), at input time, with mac1 and, if `maker` holds a
// cookie, mac2.
Bytes initiation_from(crypto::Identity& id, const crypto::SymmetricKey& psk,
                      crypto::CookieMaker& maker, std::uint64_t unix_ns) {
    crypto::Handshake h(id, fixture->our_public_key(), psk);
    FixedRng rng;
    rng.reseed(unix_ns);
    crypto::MessageInitiation m;
    require(h.create_initiation(m, crypto::generate_private_key(rng), 0x5eed0001,
                                crypto::tai64n_from_unix_ns(unix_ns)) == crypto::Reject::none,
            "initiation");
    maker.add_macs(crypto::message_bytes(m), input_time.boot);
    return Bytes(crypto::message_bytes(m).begin(), crypto::message_bytes(m).end());
}

// B's answer to the initiation we sent it at setup.
Bytes response_from_b() {
    const auto init = crypto::read_message<crypto::MessageInitiation>(fixture->initiation_to_b());
    crypto::InitiationStage stage;
    require(crypto::open_initiation(fixture->identity_b(), init, stage) == crypto::Reject::none,
            "B opens our initiation");
    crypto::Handshake h(fixture->identity_b(), fixture->our_public_key(), fixture->psk_b());
    require(h.consume_initiation(stage, input_time.boot) == crypto::Reject::none, "B consumes");
    FixedRng rng;
    rng.reseed(0xb0);
    crypto::MessageResponse r;
    require(
        h.create_response(r, crypto::generate_private_key(rng), 0xb1b1b1b1) == crypto::Reject::none,
        "B's response");
    crypto::CookieMaker(fixture->our_public_key()).add_macs(crypto::message_bytes(r), 0);
    return Bytes(crypto::message_bytes(r).begin(), crypto::message_bytes(r).end());
}

// B, under load, answering our initiation with a cookie reply.
Bytes cookie_reply_from_b() {
    crypto::CookieChecker checker(fixture->identity_b());
    FixedRng rng;
    rng.reseed(0xc0);
    crypto::MessageCookieReply reply;
    const std::uint8_t source[6] = {10, 99, 0, 1, 0xca, 0x6c};
    checker.create_reply(reply, fixture->initiation_to_b(), source, input_time.boot, rng);
    return Bytes(crypto::message_bytes(reply).begin(), crypto::message_bytes(reply).end());
}

// What a seed must do, by the outcome run_input() reports.
auto accepted_by(char peer) {
    return [peer](const Outcome& o) { return o.peer_name == peer; };
}
auto dropped(Drop d) {
    return [d](const Outcome& o) { return o.drop == d; };
}
bool delivered(const Outcome& o) {
    return o.peer_name == 'a' && !o.packet.empty();
}

constexpr std::uint8_t a_src[4] = {10, 100, 0, 2}, b_src[4] = {10, 100, 0, 3};

// Data as received: sealed by A's side of the session.
void data_seeds() {
    seed("data-ipv4", flag::from_a, data_from_a(ipv4(a_src, 84), 1), delivered);
    seed("data-ipv6", flag::from_a, data_from_a(ipv6(2, 104), 2), delivered);
    seed("data-keepalive", flag::from_a, data_from_a({}, 3), accepted_by('a'));
    seed("data-roaming-tcp", flag::from_ipv6 | flag::tcp, data_from_a(ipv4(a_src, 60), 4),
         delivered);
    seed("data-wrong-source", flag::from_a, data_from_a(ipv4(b_src, 60), 5),
         dropped(Drop::source_mismatch));
    seed("data-replayed", flag::from_a, data_from_a({}, 0), dropped(Drop::replayed_counter));
    seed("data-expired", flag::from_a | flag::late, data_from_a({}, 6),
         dropped(Drop::session_expired));
    Bytes forged = data_from_a(ipv4(a_src, 60), 7);
    forged.back() ^= 1;
    seed("data-bad-tag", flag::from_a, forged, dropped(Drop::decrypt_failed));
    Bytes unknown = data_from_a(ipv4(a_src, 60), 8);
    unknown[4] ^= 0x55;
    seed("data-unknown-index", flag::from_stranger, unknown, dropped(Drop::unknown_index));
}

// Data the target seals from a plaintext (seal mode).
void seal_seeds() {
    seed("seal-ipv4", flag::seal, sealed(9, ipv4(a_src, 60)), delivered);
    seed("seal-ipv6-udp", flag::seal | flag::from_b, sealed(10, ipv6(2, 48)), delivered);
    seed("seal-keepalive", flag::seal, sealed(11, {}), accepted_by('a'));
    Bytes long_header = ipv4(a_src, 60);
    long_header[3] = 200;
    seed("seal-length-past-end", flag::seal, sealed(12, long_header),
         dropped(Drop::malformed_inner));
    seed("seal-ipv6-other-source", flag::seal | flag::high_counter, sealed(13, ipv6(3, 60)),
         dropped(Drop::source_mismatch));
    seed("seal-not-ip", flag::seal, sealed(14, Bytes(30, 0x11)), dropped(Drop::malformed_inner));
}

// Initiations from A (mac2 under load: first a cookie reply, which A takes, then its next
// initiation carries mac2), from B and from a key we do not know. Returns A's first one.
Bytes initiation_seeds() {
    crypto::CookieMaker a_maker(fixture->our_public_key());
    const crypto::SymmetricKey no_psk;
    const Bytes a_init =
        initiation_from(fixture->identity_a(), no_psk, a_maker, input_time.unix_ns);
    seed("initiation-a", flag::from_a, a_init, accepted_by('a'));
    seed("initiation-a-roaming-ipv6", flag::from_ipv6, a_init, accepted_by('a'));
    seed("initiation-a-over-tcp", flag::from_stranger | flag::tcp, a_init, accepted_by('a'));
    Bytes bad_mac1 = a_init;
    bad_mac1[120] ^= 1;
    seed("initiation-bad-mac1", flag::from_a, bad_mac1, dropped(Drop::invalid_mac1));
    Outcome cookie;
    seed("initiation-a-under-load", flag::from_a | flag::under_load, a_init, [&](const Outcome& o) {
        cookie = o;
        return o.drop == Drop::under_load_cookie && o.sent.size() == 1;
    });
    require(a_maker.consume_reply(crypto::read_message<crypto::MessageCookieReply>(cookie.sent[0]),
                                  input_time.boot) == crypto::Reject::none,
            "A takes our cookie");
    const Bytes a_mac2 =
        initiation_from(fixture->identity_a(), no_psk, a_maker, input_time.unix_ns + 1);
    seed("initiation-a-mac2-under-load", flag::from_a | flag::under_load, a_mac2, accepted_by('a'));
    seed("initiation-mac2-wrong-source", flag::from_stranger | flag::under_load, a_mac2,
         dropped(Drop::under_load_cookie));
    crypto::CookieMaker b_maker(fixture->our_public_key());
    seed("initiation-b", flag::from_b,
         initiation_from(fixture->identity_b(), fixture->psk_b(), b_maker, input_time.unix_ns),
         accepted_by('b'));
    FixedRng stranger_rng;
    stranger_rng.reseed(0x57);
    crypto::Identity stranger =
        crypto::Identity::create(crypto::generate_private_key(stranger_rng));
    crypto::CookieMaker stranger_maker(fixture->our_public_key());
    seed("initiation-unknown-peer", flag::from_stranger,
         initiation_from(stranger, no_psk, stranger_maker, input_time.unix_ns),
         dropped(Drop::unknown_peer));
    return a_init;
}

// B's answers to our initiation: its response and its cookie reply.
void answer_seeds() {
    const Bytes b_response = response_from_b();
    seed("response-b", flag::from_b, b_response, accepted_by('b'));
    seed("response-b-late", flag::from_b | flag::late, b_response, accepted_by('b'));
    seed("response-b-under-load", flag::from_b | flag::under_load, b_response,
         dropped(Drop::under_load_cookie));
    seed("cookie-reply-b", flag::from_b, cookie_reply_from_b(),
         [](const Outcome& o) { return o.drops == 0 && o.rebuilt; });
    Bytes stale_cookie = cookie_reply_from_b();
    stale_cookie[20] ^= 1;
    seed("cookie-reply-b-bad", flag::from_b, stale_cookie, dropped(Drop::decrypt_failed));
}

void near_miss_seeds(const Bytes& initiation) {
    seed("empty", flag::from_a, {}, dropped(Drop::malformed));
    seed("short-data", flag::from_a, Bytes{4, 0, 0, 0, 1, 2, 3}, dropped(Drop::malformed));
    Bytes reserved = initiation;
    reserved[1] = 1;
    seed("initiation-reserved-byte", flag::from_a, reserved, dropped(Drop::malformed));
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: device_seeds DIR\n");
        return 2;
    }
    out_dir = argv[1];
    DeviceFixture f;
    fixture = &f;
    data_seeds();
    seal_seeds();
    const Bytes initiation = initiation_seeds();
    answer_seeds();
    near_miss_seeds(initiation);
    // Each input is judged alone: in reverse order every seed does what it did.
    for (auto it = written.rbegin(); it != written.rend(); ++it)
        require(same(run_input(f, it->first), it->second), "an outcome depends on the order");
    std::printf("device_seeds: wrote the seeds to %s\n", out_dir.c_str());
    return 0;
}
