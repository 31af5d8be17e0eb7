// Endpoint host names looked up off the loop. A lookup (getaddrinfo) can block for seconds when
// the resolver is slow or dead, and the loop carries every tunnel, so lookups run on one worker
// thread of their own: the loop asks (ask), the worker answers one lookup at a time into a
// queue, wakes the loop (the caller's `wake`, e.g. SignalPipe::notify(kResolved)) and the loop
// takes the answers (take_answers). What to ask and what an answer changes is the caller's
// (cli/endpoint_names); this file only moves names and answers between the threads.
//
// Shutdown never waits for a lookup. The worker owns the shared state through a shared_ptr;
// the destructor marks it stopped, joins the worker when it is idle (it then leaves at once) and
// otherwise detaches it: that lookup finishes on its own time, its answer is dropped, and the
// thread ends. `wake` is only ever called under the state's lock and never once the destructor
// has returned, so it may refer to what outlives the NameResolver only (the signal pipe);
// `lookup` may still run after that and must refer to nothing the owner destroys.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "crypto/keys.hpp"
#include "daemon/engine/endpoint.hpp"
#include "util/result.hpp"

namespace ringtun::daemon {

// What a lookup found: the endpoint, or why there is none (the resolver's reason).
struct Resolved {
    std::optional<Endpoint> endpoint;
    std::string problem;
};

struct NameLookup {
    crypto::PublicKey peer;  // whose endpoint the name gives
    std::string name;        // "host:port"
};

struct NameAnswer {
    crypto::PublicKey peer;
    std::string name;  // as asked: the caller checks it is still the peer's
    Resolved resolved;
};

class NameResolver {
  public:
    // Runs on the worker thread; may block. Must be safe to call after the NameResolver is gone.
    using LookupFn = std::function<Resolved(const std::string& name)>;
    // Called on the worker thread, under the lock, when an answer was queued. Must not block.
    using WakeFn = std::function<void()>;

    // Lookups waiting beyond this many are refused (ask() returns false): a bound on memory,
    // far above one per peer asked every few seconds.
    static constexpr std::size_t max_pending = 256;

    // Starts the worker (with every signal blocked: they are the loop thread's).
    static util::Result<std::unique_ptr<NameResolver>> create(LookupFn lookup, WakeFn wake);
    NameResolver(const NameResolver&) = delete;
    NameResolver& operator=(const NameResolver&) = delete;
    // Returns at once: joins an idle worker, detaches one in a lookup (see above).
    ~NameResolver();

    // Queues a lookup; false (nothing queued) when max_pending wait already.
    [[nodiscard]] bool ask(NameLookup lookup);
    // The answers ready so far, in the order they came.
    std::vector<NameAnswer> take_answers();

  private:
    struct Shared;
    explicit NameResolver(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}
    static void work(std::shared_ptr<Shared> shared) noexcept;

    std::shared_ptr<Shared> shared_;
    std::thread worker_;
};

}  // namespace ringtun::daemon
