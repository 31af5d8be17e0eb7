#include "device_input.hpp"

#include <sys/socket.h>

#include <cstring>
#include <memory>

#include "crypto/transport.hpp"

namespace ringtun::fuzz {

namespace {

using crypto::MessageType;
using daemon::Drop;

constexpr std::uint8_t a_v4[4] = {10, 100, 0, 2};
constexpr std::uint8_t a_v6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

// Whether the inner packet's source is A's (its allowed IPs are one /32 and one /128).
bool from_a(std::span<const std::uint8_t> p) {
    if ((p[0] >> 4) == 4) return std::memcmp(p.data() + 12, a_v4, 4) == 0;
    return std::memcmp(p.data() + 8, a_v6, 16) == 0;
}

// The IP packet at the start of a decrypted, padded body, by WireGuard's rule: the IPv4 total
// length or 40 + the IPv6 payload length, within the body; 0 if there is none.
std::size_t inner_length(std::span<const std::uint8_t> body) {
    if (body.empty()) return 0;
    const std::size_t v = body[0] >> 4;
    if (v == 4 && body.size() >= 20) {
        const std::size_t len = std::size_t{body[2]} << 8 | body[3];
        return len >= 20 && len <= body.size() ? len : 0;
    }
    if (v == 6 && body.size() >= 40) {
        const std::size_t len = 40 + (std::size_t{body[4]} << 8 | body[5]);
        return len <= body.size() ? len : 0;
    }
    return 0;
}

struct Message {
    std::unique_ptr<std::uint8_t[]> bytes;  // exactly sized, so ASan sees any overread
    std::size_t size = 0;
    Bytes plain;  // seal mode: the padded plaintext A sealed
    std::uint64_t counter = 0;
    std::span<std::uint8_t> span() const noexcept { return {bytes.get(), size}; }
};

Message build_message(DeviceFixture& f, std::uint8_t flags, std::span<const std::uint8_t> rest) {
    Message m;
    if ((flags & flag::seal) == 0) {
        m.size = rest.size();
        m.bytes = std::make_unique<std::uint8_t[]>(m.size);
        if (m.size != 0) std::memcpy(m.bytes.get(), rest.data(), m.size);
        return m;
    }
    const std::uint64_t low = rest[0] | std::uint64_t{rest[1]} << 8;
    m.counter = (flags & flag::high_counter) != 0 ? crypto::reject_after_messages - 1 - low : low;
    const std::span<const std::uint8_t> plain = rest.subspan(2);
    m.size = crypto::sealed_length(plain.size(), mtu);
    m.bytes = std::make_unique<std::uint8_t[]>(m.size);
    if (!plain.empty())
        std::memcpy(m.bytes.get() + crypto::data_header_len, plain.data(), plain.size());
    f.a_session().set_send_counter(m.counter);
    const crypto::SealResult sealed = crypto::seal_data(f.a_session(), m.span(), plain.size(), mtu);
    require(sealed.reject == crypto::Reject::none && sealed.length == m.size, "seal");
    m.plain.assign(plain.begin(), plain.end());
    m.plain.resize(crypto::padded_length(plain.size(), mtu), 0);
    return m;
}

// The one reason counted, if exactly one was.
std::optional<Drop> only_drop(const daemon::DropCounters& before,
                              const daemon::DropCounters& after) {
    std::optional<Drop> found;
    for (std::size_t i = 0; i < static_cast<std::size_t>(Drop::count_); ++i) {
        const auto d = static_cast<Drop>(i);
        if (after.get(d) != before.get(d)) found = d;
    }
    return found;
}

// Exactly one drop for a message ignored (a cookie reply taken counts none), none for one
// delivered; the TUN counters count what was delivered.
void check_counts(const Outcome& o, const daemon::DeviceCounters& before,
                  const daemon::DeviceCounters& after) {
    require(o.drops <= 1, "more than one drop counted for one message");
    require(after.tun_tx_packets - before.tun_tx_packets == (o.packet.empty() ? 0u : 1u) &&
                after.tun_tx_bytes - before.tun_tx_bytes == o.packet.size(),
            "TUN counters");
    if (o.packet.empty() && o.peer == nullptr && o.type != MessageType::cookie_reply)
        require(o.drops == 1, "a message ignored without a drop counted");
    if (!o.packet.empty()) require(o.drops == 0, "a delivered packet counted as dropped");
}

void check_packet(const Outcome& o, const Message& m, const Peer& a) {
    const Bytes& p = o.packet;
    if (p.empty()) return;
    require(o.peer == &a, "a packet for the TUN from a peer without a session");
    const std::span<const std::uint8_t> body(m.bytes.get() + crypto::data_header_len,
                                             m.size - crypto::data_overhead);
    require(inner_length(body) == p.size(), "inner packet length");
    require(from_a(p), "inner source outside the peer's allowed IPs");
}

// A data message A's side sealed: the outcome the protocol prescribes.
void check_sealed(const Outcome& o, const Message& m, bool late, const Peer& a) {
    if (late) {
        require(o.drop == Drop::session_expired, "data under an expired session");
        return;
    }
    if (m.counter == 0) {  // the setup keepalive used it
        require(o.drop == Drop::replayed_counter, "replayed counter accepted");
        return;
    }
    if (m.plain.empty()) {
        require(o.peer == &a && o.drops == 0 && o.packet.empty(), "keepalive");
        return;
    }
    const std::size_t len = inner_length(m.plain);
    if (len == 0) {
        require(o.peer == nullptr && o.drop == Drop::malformed_inner, "malformed inner packet");
        return;
    }
    require(o.peer == &a, "valid data from A not authenticated");
    if (!from_a({m.plain.data(), len})) {
        require(o.drop == Drop::source_mismatch && o.packet.empty(), "source not checked");
        return;
    }
    require(o.drops == 0 && o.packet == Bytes(m.plain.begin(), m.plain.begin() + long(len)),
            "valid data from A not delivered as sealed");
}

void check_answers(const Outcome& o, const Endpoint& from, const daemon::DeviceCounters& before,
                   const daemon::DeviceCounters& after) {
    if (o.drop == Drop::under_load_cookie) {
        require(o.sent.size() == 1 && o.sent[0].size() == sizeof(crypto::MessageCookieReply),
                "under load: no cookie reply");
        require(after.cookie_replies_sent == before.cookie_replies_sent + 1, "cookie replies");
    }
    if (o.type == MessageType::initiation && o.peer != nullptr) {
        require(o.sent.size() == 1 && o.sent[0].size() == sizeof(crypto::MessageResponse),
                "an accepted initiation not answered");
        require(o.peer->endpoint && o.peer->endpoint->same_address(from), "no roaming");
    }
    if (o.peer == nullptr && o.drop != Drop::under_load_cookie)
        require(o.sent.empty(), "an answer to a message that did not authenticate");
}

// Whether the input changed what restore() does not put back.
bool needs_rebuild(const Outcome& o, bool under_load, bool late) {
    if (o.type == MessageType::initiation || o.type == MessageType::response) {
        if (o.peer != nullptr) return true;  // a handshake completed or advanced
        // Under load, a message with a valid mac1 reads the cookie secret (renewed when late)
        // and, with a valid mac2, takes a token from its source's bucket.
        return under_load && o.drop != Drop::invalid_mac1 &&
               (late || o.drop != Drop::under_load_cookie);
    }
    if (o.type == MessageType::cookie_reply) return o.drops == 0;  // a cookie taken
    return false;
}

}  // namespace

Outcome run_input(DeviceFixture& f, std::span<const std::uint8_t> input) {
    Outcome o;
    if (input.empty()) return o;
    const std::uint8_t flags = input[0];
    const std::span<const std::uint8_t> rest = input.subspan(1);
    if ((flags & flag::seal) != 0 && rest.size() < 2) return o;
    o.ran = true;
    const bool under_load = (flags & flag::under_load) != 0;
    const bool late = (flags & flag::late) != 0;
    const Now& now = late ? late_time : input_time;
    const Endpoint from = source_endpoint(flags & 3, (flags & flag::tcp) != 0);
    const Message m = build_message(f, flags, rest);
    o.type = crypto::classify(m.span());

    f.prepare(under_load);
    const daemon::DeviceCounters before = f.device().counters();
    const Device::Inbound in = f.device().on_network_packet(m.span(), from, now);
    const daemon::DeviceCounters& after = f.device().counters();

    o.peer = in.peer;
    if (in.peer != nullptr) o.peer_name = in.peer == &f.peer_a() ? 'a' : 'b';
    if (!in.packet.empty()) {
        require(in.packet.data() >= m.bytes.get() &&
                    in.packet.data() + in.packet.size() <= m.bytes.get() + m.size,
                "TUN packet outside the message");
        o.packet.assign(in.packet.begin(), in.packet.end());
    }
    for (const RecordingSink::Sent& s : f.sink().sent())
        o.sent.emplace_back(s.bytes.begin(), s.bytes.end());
    o.drops = after.drops.total() - before.drops.total();
    o.drop = only_drop(before.drops, after.drops);
    check_counts(o, before, after);
    check_packet(o, m, f.peer_a());
    if ((flags & flag::seal) != 0) check_sealed(o, m, late, f.peer_a());
    check_answers(o, from, before, after);

    o.rebuilt = needs_rebuild(o, under_load, late);
    if (o.rebuilt) {
        f.sink().clear();
        f.rebuild();
    } else {
        f.restore();
    }
    return o;
}

}  // namespace ringtun::fuzz
