// The device the `device` fuzz target feeds, built once and kept in a known state: our
// interface with two peers, A and B, as the loop would hold it after a few seconds of life.
//   - A completed a handshake with us (we answered its initiation; its keepalive confirmed
//     the session), so data under the right receiver index reaches the AEAD and the replay
//     window, and A's side of that session (a_session()) seals whatever the fuzzer wants.
//   - We sent B an initiation (a packet for B is staged), so B's response and B's cookie
//     reply find a handshake to complete.
//   - The cookie secret exists (born at setup), so mac2 can be computed for a source.
// Keys, indices and ephemerals come from a fixed seed, so every build answers identically;
// rebuild() replays the recorded messages into a new device and aborts if it does not.
//
// Between inputs the state an input may change is put back: restore() copies back the
// peers' timers, endpoints, counters and replay windows (what data and failed handshakes
// touch), and anything more (an accepted handshake or cookie, the per-source limiter) takes
// a rebuild(). prepare() reseeds the randomness and sets the load flag for the next input.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "crypto/noise.hpp"
#include "crypto/replay.hpp"
#include "crypto/rng.hpp"
#include "crypto/session.hpp"
#include "daemon/engine/device.hpp"

namespace ringtun::fuzz {

using Bytes = std::vector<std::uint8_t>;
using daemon::Device;
using daemon::Endpoint;
using daemon::Now;
using daemon::Peer;

// Aborts with `what` (the fuzzer records the input) unless `ok`.
void require(bool ok, const char* what);

// Randomness from a fixed seed (splitmix64).
class FixedRng final : public crypto::Rng {
  public:
    void reseed(std::uint64_t seed) noexcept {
        state_ = seed;
        avail_ = 0;
    }
    void fill(std::span<std::uint8_t> out) noexcept override;

  private:
    std::uint64_t state_ = 0;
    std::uint64_t word_ = 0;
    int avail_ = 0;
};

// Lends fixed buffers and records what the device commits; checks that every handle is
// spent once and that nothing longer than its buffer is sent.
class RecordingSink final : public daemon::MessageSink {
  public:
    static constexpr std::size_t buffer_size = 2048;  // > data_overhead + mtu
    static constexpr std::size_t buffers = 16;
    struct Sent {
        Endpoint to;
        std::span<const std::uint8_t> bytes;
    };

    daemon::TxBuffer acquire(std::size_t size, daemon::TxClass c) noexcept override;
    bool has_room(daemon::TxClass c) const noexcept override;
    void commit(const daemon::TxBuffer& b, const Endpoint& to,
                std::size_t length) noexcept override;
    void cancel(const daemon::TxBuffer& b) noexcept override;

    // Forgets what was sent; every lent buffer must have come back.
    void clear() noexcept;
    const std::vector<Sent>& sent() const noexcept { return sent_; }

  private:
    std::uint8_t storage_[buffers][buffer_size]{};
    std::size_t lent_[buffers]{};  // 0: free
    std::vector<Sent> sent_;
};

inline constexpr std::size_t mtu = 1420;
inline constexpr Now setup_time{crypto::seconds_ns(1000), 1'700'000'000'000'000'000ULL};
// Inputs arrive 1 s after setup (the cookie secret is fresh, no flood limit), or, with the
// late flag, after every session expired (REJECT_AFTER_TIME) and the secret aged out.
inline constexpr Now input_time{setup_time.boot + crypto::seconds_ns(1),
                                setup_time.unix_ns + 1'000'000'000ULL};
inline constexpr Now late_time{setup_time.boot + crypto::seconds_ns(200),
                               setup_time.unix_ns + 200'000'000'000ULL};

// Where an input comes from: A's and B's configured endpoints, a stranger, or an IPv6 host.
Endpoint source_endpoint(unsigned which, bool tcp);

class DeviceFixture {
  public:
    DeviceFixture();

    Device& device() noexcept { return *device_; }
    Peer& peer_a() noexcept { return *a_; }
    Peer& peer_b() noexcept { return *b_; }
    RecordingSink& sink() noexcept { return sink_; }
    // A's side of the session with us: seals data as A (its send counter set per input).
    crypto::Session& a_session() noexcept { return *a_session_; }
    crypto::Identity& identity_a() noexcept { return a_id_; }
    crypto::Identity& identity_b() noexcept { return b_id_; }
    const crypto::PublicKey& our_public_key() const noexcept {
        return device_->identity().public_key;
    }
    const crypto::SymmetricKey& psk_b() const noexcept { return psk_b_; }
    // The initiation we sent B at setup (answer it as B to complete that handshake).
    const Bytes& initiation_to_b() const noexcept { return initiation_to_b_; }

    // Before an input: fresh randomness, the load flag, an empty sink.
    void prepare(bool under_load) noexcept;
    // After an input that changed no more than restore() puts back.
    void restore() noexcept;
    // After any other: a new device in the setup state.
    void rebuild();

  private:
    struct PeerState {
        daemon::Timers timers;
        std::optional<Endpoint> endpoint;
        std::optional<crypto::Nanos> last_initiation_sent;
        std::uint64_t rx_bytes = 0, tx_bytes = 0, last_handshake_unix_ns = 0;
        std::uint64_t unanswered_since_unix_ns = 0;
        bool sent_lastminute_handshake = false, reported_silent = false;
        crypto::Nanos scheduled = 0;
        std::optional<crypto::ReplayWindow> window;  // of the current session
    };
    static PeerState save(Peer& p);
    static void put_back(Peer& p, const PeerState& s);

    // The setup, in order; `first`: record what the peers send and what we answer, else
    // replay it and require the same answers.
    void build(bool first);
    // A's initiation, our response, A's keepalive confirming the session.
    void handshake_with_a(bool first);
    // A packet for B staged, and our initiation to B sent.
    void initiate_to_b(bool first);
    // The cookie secret, born at setup: a handshake under load answered with a cookie reply.
    void make_cookie_secret(bool first);
    // Feeds `message` from `from` at setup time; returns what the device sent in answer.
    std::vector<Bytes> feed(const Bytes& message, const Endpoint& from, Peer* expect_peer);
    void record_or_compare(Bytes& recorded, const Bytes& now, bool first, const char* what);

    crypto::Identity a_id_, b_id_;
    crypto::PrivateKey our_key_;
    crypto::SymmetricKey psk_b_;
    FixedRng rng_;
    RecordingSink sink_;
    std::unique_ptr<Device> device_;
    Peer* a_ = nullptr;
    Peer* b_ = nullptr;
    std::optional<crypto::Session> a_session_;
    Bytes a_initiation_, response_to_a_, a_keepalive_, initiation_to_b_, cookie_reply_;
    PeerState a_saved_, b_saved_;
};

}  // namespace ringtun::fuzz
