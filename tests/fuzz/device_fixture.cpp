#include "device_fixture.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "crypto/cookie.hpp"
#include "crypto/transport.hpp"
#include "crypto/x25519.hpp"
#include "util/log.hpp"

namespace ringtun::fuzz {

namespace {

constexpr std::uint64_t device_seed = 0x0de71ce;

crypto::PrivateKey key_from_seed(std::uint64_t seed) {
    FixedRng rng;
    rng.reseed(seed);
    return crypto::generate_private_key(rng);
}

Endpoint endpoint(int family, const char* ip, std::uint16_t port) {
    Endpoint e;
    if (family == AF_INET) {
        e.addr.in4.sin_family = AF_INET;
        e.addr.in4.sin_port = htons(port);
        require(inet_pton(AF_INET, ip, &e.addr.in4.sin_addr) == 1, "address");
    } else {
        e.addr.in6.sin6_family = AF_INET6;
        e.addr.in6.sin6_port = htons(port);
        require(inet_pton(AF_INET6, ip, &e.addr.in6.sin6_addr) == 1, "address");
    }
    return e;
}

void route(Device& d, Peer& p, const char* v4, const char* v6) {
    std::uint8_t a4[4], a6[16];
    require(inet_pton(AF_INET, v4, a4) == 1 && inet_pton(AF_INET6, v6, a6) == 1, "prefix");
    require(d.add_allowed_ip(p, AF_INET, a4, 32) && d.add_allowed_ip(p, AF_INET6, a6, 128),
            "allowed IP");
}

}  // namespace

void require(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "device_fuzz: %s\n", what);
    std::abort();
}

void FixedRng::fill(std::span<std::uint8_t> out) noexcept {
    for (auto& b : out) {
        if (avail_ == 0) {
            std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
            word_ = z ^ (z >> 31);
            avail_ = 8;
        }
        b = static_cast<std::uint8_t>(word_);
        word_ >>= 8;
        --avail_;
    }
}

daemon::TxBuffer RecordingSink::acquire(std::size_t size, daemon::TxClass) noexcept {
    require(size > 0 && size <= buffer_size, "a message larger than any transmit buffer");
    for (std::uint32_t h = 0; h < buffers; ++h) {
        if (lent_[h] != 0) continue;
        lent_[h] = size;
        return {h, {storage_[h], size}};
    }
    return {};  // the device counts no_tx_buffer
}

bool RecordingSink::has_room(daemon::TxClass) const noexcept {
    return std::find(lent_, lent_ + buffers, std::size_t{0}) != lent_ + buffers;
}

void RecordingSink::commit(const daemon::TxBuffer& b, const Endpoint& to,
                           std::size_t length) noexcept {
    require(b.handle < buffers && lent_[b.handle] != 0, "commit of a handle not lent");
    require(length > 0 && length <= lent_[b.handle], "message longer than its buffer");
    require(to.valid(), "message to an invalid endpoint");
    require(crypto::classify({storage_[b.handle], length}).has_value(), "malformed message sent");
    sent_.push_back({to, {storage_[b.handle], length}});
    lent_[b.handle] = 0;
}

void RecordingSink::cancel(const daemon::TxBuffer& b) noexcept {
    require(b.handle < buffers && lent_[b.handle] != 0, "cancel of a handle not lent");
    lent_[b.handle] = 0;
}

void RecordingSink::clear() noexcept {
    for (std::size_t l : lent_)
        require(l == 0, "a transmit buffer neither committed nor cancelled");
    sent_.clear();
}

Endpoint source_endpoint(unsigned which, bool tcp) {
    static const Endpoint sources[4] = {
        endpoint(AF_INET, "10.99.0.2", 51820),  // A's configured endpoint
        endpoint(AF_INET, "10.99.0.3", 51820),  // B's
        endpoint(AF_INET, "10.99.0.9", 40000),  // a stranger (or a roaming peer)
        endpoint(AF_INET6, "fd99::2", 51820),   // an IPv6 host
    };
    Endpoint e = sources[which & 3];
    if (tcp) {
        e.tcp = true;
        e.tcp_connection = (std::uint64_t{1} << 48) | 7;  // a handle as ConnectionTable makes
    }
    return e;
}

DeviceFixture::DeviceFixture()
    : a_id_(crypto::Identity::create(key_from_seed(0xa))),
      b_id_(crypto::Identity::create(key_from_seed(0xb))),
      our_key_(key_from_seed(0x05)) {
    // Every rebuild creates peers and completes handshakes: info lines would drown the output.
    util::log::set_min_level(util::log::Level::warning);
    for (std::size_t i = 0; i < psk_b_.size(); ++i)
        psk_b_.span()[i] = static_cast<std::uint8_t>(0xb0 + i);
    build(true);
}

void DeviceFixture::prepare(bool under_load) noexcept {
    rng_.reseed(0x1a9u);
    sink_.clear();
    device_->set_load_threshold(under_load ? 0 : daemon::HandshakeLoad::default_threshold);
}

DeviceFixture::PeerState DeviceFixture::save(Peer& p) {
    PeerState s;
    s.timers = p.timers;
    s.endpoint = p.endpoint;
    s.last_initiation_sent = p.last_initiation_sent;
    s.rx_bytes = p.rx_bytes;
    s.tx_bytes = p.tx_bytes;
    s.last_handshake_unix_ns = p.last_handshake_unix_ns;
    s.unanswered_since_unix_ns = p.unanswered_since_unix_ns;
    s.sent_lastminute_handshake = p.sent_lastminute_handshake;
    s.reported_silent = p.reported_silent;
    s.scheduled = p.scheduled;
    if (p.current) s.window = p.current->replay();
    return s;
}

void DeviceFixture::put_back(Peer& p, const PeerState& s) {
    p.timers = s.timers;
    p.endpoint = s.endpoint;
    p.last_initiation_sent = s.last_initiation_sent;
    p.rx_bytes = s.rx_bytes;
    p.tx_bytes = s.tx_bytes;
    p.last_handshake_unix_ns = s.last_handshake_unix_ns;
    p.unanswered_since_unix_ns = s.unanswered_since_unix_ns;
    p.sent_lastminute_handshake = s.sent_lastminute_handshake;
    p.reported_silent = s.reported_silent;
    p.scheduled = s.scheduled;
    require(p.current.has_value() == s.window.has_value(), "a session came or went");
    if (p.current) p.current->replay() = *s.window;
    require(!p.previous && !p.next, "a session came or went");
}

void DeviceFixture::restore() noexcept {
    put_back(*a_, a_saved_);
    put_back(*b_, b_saved_);
}

void DeviceFixture::rebuild() {
    build(false);
}

std::vector<Bytes> DeviceFixture::feed(const Bytes& message, const Endpoint& from,
                                       Peer* expect_peer) {
    Bytes copy = message;
    sink_.clear();
    const Device::Inbound in = device_->on_network_packet(copy, from, setup_time);
    require(in.peer == expect_peer, "setup: a message was not taken as expected");
    std::vector<Bytes> answers;
    for (const RecordingSink::Sent& s : sink_.sent())
        answers.emplace_back(s.bytes.begin(), s.bytes.end());
    return answers;
}

void DeviceFixture::record_or_compare(Bytes& recorded, const Bytes& now, bool first,
                                      const char* what) {
    if (first) recorded = now;
    require(recorded == now, what);
}

void DeviceFixture::build(bool first) {
    rng_.reseed(device_seed);
    sink_.clear();
    device_.reset();
    device_ = std::make_unique<Device>(our_key_, mtu, sink_, rng_);
    a_ = device_->add_peer(a_id_.public_key, {}, 0, source_endpoint(0, false));
    b_ = device_->add_peer(b_id_.public_key, psk_b_, 0, source_endpoint(1, false));
    require(a_ && b_, "setup: peers");
    route(*device_, *a_, "10.100.0.2", "fd00::2");
    route(*device_, *b_, "10.100.0.3", "fd00::3");
    handshake_with_a(first);
    initiate_to_b(first);
    make_cookie_secret(first);
    sink_.clear();
    a_saved_ = save(*a_);
    b_saved_ = save(*b_);
}

void DeviceFixture::handshake_with_a(bool first) {
    // A's side only the first time: a rebuild replays what A sent.
    std::unique_ptr<crypto::Handshake> a_handshake;
    if (first) {
        a_handshake =
            std::make_unique<crypto::Handshake>(a_id_, our_public_key(), crypto::SymmetricKey{});
        crypto::MessageInitiation m;
        FixedRng a_rng;
        a_rng.reseed(0xa0);
        require(a_handshake->create_initiation(m, crypto::generate_private_key(a_rng), 0xa1a1a1a1,
                                               crypto::tai64n_from_unix_ns(setup_time.unix_ns)) ==
                    crypto::Reject::none,
                "setup: A's initiation");
        crypto::CookieMaker(our_public_key()).add_macs(crypto::message_bytes(m), setup_time.boot);
        a_initiation_.assign(crypto::message_bytes(m).begin(), crypto::message_bytes(m).end());
    }
    const std::vector<Bytes> answer = feed(a_initiation_, source_endpoint(0, false), a_);
    require(answer.size() == 1, "setup: no response to A");
    record_or_compare(response_to_a_, answer[0], first, "setup: another response to A");
    if (first) {
        const auto r = crypto::read_message<crypto::MessageResponse>(response_to_a_);
        require(a_handshake->consume_response(r) == crypto::Reject::none, "setup: our response");
        const auto keys = a_handshake->derive_session_keys();
        require(keys.has_value(), "setup: A's keys");
        a_session_ = crypto::Session::create(*keys, setup_time.boot);
        require(a_session_.has_value(), "setup: A's session");
        a_keepalive_.assign(crypto::keepalive_len, 0);
        require(crypto::seal_data(*a_session_, a_keepalive_, 0, mtu).reject == crypto::Reject::none,
                "setup: A's keepalive");
    }
    require(feed(a_keepalive_, source_endpoint(0, false), a_).empty(), "setup: keepalive answered");
    require(a_->current.has_value(), "setup: A's session not confirmed");
}

void DeviceFixture::initiate_to_b(bool first) {
    Bytes packet(crypto::data_header_len + mtu + crypto::data_tag_len, 0);
    const std::uint8_t header[20] = {0x45, 0, 0,  40,  0, 0, 0,  0,   64, 17,
                                     0,    0, 10, 100, 0, 1, 10, 100, 0,  3};
    std::memcpy(packet.data() + crypto::data_header_len, header, sizeof header);
    sink_.clear();
    require(device_->on_tun_packet(packet, 40, setup_time).peer == nullptr, "setup: not staged");
    require(sink_.sent().size() == 1, "setup: no initiation to B");
    const Bytes to_b(sink_.sent()[0].bytes.begin(), sink_.sent()[0].bytes.end());
    record_or_compare(initiation_to_b_, to_b, first, "setup: another initiation to B");
}

void DeviceFixture::make_cookie_secret(bool first) {
    device_->set_load_threshold(0);
    const std::vector<Bytes> cookie = feed(a_initiation_, source_endpoint(0, false), nullptr);
    require(cookie.size() == 1, "setup: no cookie reply");
    record_or_compare(cookie_reply_, cookie[0], first, "setup: another cookie reply");
    device_->set_load_threshold(daemon::HandshakeLoad::default_threshold);
}

}  // namespace ringtun::fuzz
