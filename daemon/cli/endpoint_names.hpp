// Endpoint host names: when a peer's `endpoint = "host:port"` is looked up (again), and what an
// answer changes. The lookups themselves run off the loop (backend/name_resolver); this is the
// policy, sans-IO: it reads the device and the time it is given, and returns lookups to ask
// for and endpoints to set. It runs on the loop thread.
//
// A peer's name is looked up
//   - at once when it is new or changed (at start, after a reload);
//   - while the peer has no endpoint: every 5 s for the first six failures (about half a
//     minute), then every 30 s;
//   - once the peer's handshakes have gone unanswered for 15 s (Peer::unanswered_since_unix_ns:
//     the engine knows its initiations go unanswered; wireguard-tools' reresolve-dns.sh waits
//     for 135 s without a handshake instead), then every 30 s while they stay unanswered;
// never with a lookup for the peer in flight. An answer changes the peer's endpoint only when
// the peer still exists with that name configured and the address differs from its current
// endpoint (logged at info: "endpoint NAME now resolves to ADDR"). A failure is logged once
// until the name resolves again.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <vector>

#include "daemon/backend/name_resolver.hpp"
#include "daemon/cli/settings.hpp"
#include "daemon/engine/device.hpp"

namespace ringtun::daemon {

class EndpointNames {
  public:
    static constexpr Nanos first_retry = crypto::seconds_ns(5);
    static constexpr unsigned first_retries = 6;
    static constexpr Nanos later_retry = crypto::seconds_ns(30);
    static constexpr Nanos unanswered_after = crypto::seconds_ns(15);
    static constexpr Nanos unanswered_retry = crypto::seconds_ns(30);

    // The peers' names as the configuration gives them, at start and after each reload. A
    // new or changed name is due at once; an unchanged one keeps its schedule; one that went
    // is forgotten (an answer in flight for it is dropped). A peer dialed over TCP counts only
    // when `tcp_running` (the transport cannot start without a restart).
    void configure(const std::vector<PeerSettings>& peers, bool tcp_running);

    // The lookups due at `now`; each is in flight until answered() or not_asked().
    std::vector<NameLookup> due(const Device& device, const Now& now);
    // A lookup due() returned could not be queued: asked again at the next turn.
    void not_asked(const crypto::PublicKey& peer) noexcept;
    // A lookup's answer: the endpoint to give the peer (the configured transport's), if it
    // should change; nullopt otherwise.
    std::optional<Endpoint> answered(const Device& device, const NameAnswer& answer,
                                     const Now& now);

    std::size_t size() const noexcept { return entries_.size(); }

  private:
    struct Entry {
        std::string name;   // "host:port"; empty: forgotten, kept while its lookup is in flight
        bool tcp = false;   // transport = "tcp": the endpoint is dialed
        bool fresh = true;  // new or changed, not looked up since
        bool in_flight = false;
        Nanos next_at = 0;      // boot time: when the current rule asks again
        unsigned failures = 0;  // in a row
        bool failure_logged = false;
        std::uint64_t unanswered_since = 0;  // the unanswered stretch last asked for (unix ns)
    };
    using Key = std::array<std::uint8_t, crypto::key_len>;

    // Whether `e` is to be looked up now for `peer`; notes which unanswered stretch it is for.
    static bool wanted(Entry& e, const Peer& peer, const Now& now) noexcept;
    static void failed(Entry& e, const Peer& peer, const NameAnswer& answer, const Now& now);

    std::map<Key, Entry> entries_;
};

}  // namespace ringtun::daemon
