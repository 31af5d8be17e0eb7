// The lookup worker: answers in order with a wake-up each, a bounded queue, and a destructor
// that never waits for a lookup in progress (and never wakes anyone after it returned).
#include "daemon/backend/name_resolver.hpp"

#include <arpa/inet.h>
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

using namespace ringtun;
using namespace ringtun::daemon;
using namespace std::chrono_literals;

namespace {

// Polls `done` every millisecond for up to five seconds.
template <typename F>
bool eventually(F done) {
    for (int i = 0; i < 5000; ++i) {
        if (done()) return true;
        std::this_thread::sleep_for(1ms);
    }
    return done();
}

crypto::PublicKey key(std::uint8_t b) {
    crypto::PublicKey k;
    k.bytes.fill(b);
    return k;
}

Resolved answer_for(const std::string& name) {
    if (name != "good:7") return {std::nullopt, "Name or service not known"};
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(7);
    inet_pton(AF_INET, "10.1.2.3", &sin.sin_addr);
    return {Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&sin), sizeof sin), {}};
}

// A lookup that blocks until opened: a slow resolver. Shared, as a detached worker may still
// be inside it after the test's resolver is gone.
struct Gate {
    std::mutex m;
    std::condition_variable cv;
    bool open = false;
    std::atomic<int> entered{0}, left{0};

    Resolved pass(const std::string& name) {
        ++entered;
        std::unique_lock lock(m);
        cv.wait(lock, [this] { return open; });
        lock.unlock();
        ++left;
        return answer_for(name);
    }
    void release() {
        {
            std::lock_guard lock(m);
            open = true;
        }
        cv.notify_all();
    }
};

}  // namespace

TEST_CASE("name resolver: every lookup is answered, in order, each with a wake-up") {
    auto wakes = std::make_shared<std::atomic<int>>(0);
    auto resolver = NameResolver::create(answer_for, [wakes] { ++*wakes; });
    REQUIRE(resolver);
    REQUIRE((*resolver)->ask({key(1), "good:7"}));
    REQUIRE((*resolver)->ask({key(2), "bad:7"}));
    std::vector<NameAnswer> got;
    REQUIRE(eventually([&] {
        for (auto& a : (*resolver)->take_answers())
            got.push_back(std::move(a));
        return got.size() == 2;
    }));
    CHECK(*wakes == 2);
    CHECK(got[0].peer == key(1));
    CHECK(got[0].name == "good:7");
    REQUIRE(got[0].resolved.endpoint);
    CHECK(got[0].resolved.endpoint->to_string() == "10.1.2.3:7");
    CHECK(got[1].peer == key(2));
    CHECK_FALSE(got[1].resolved.endpoint);
    CHECK(got[1].resolved.problem == "Name or service not known");
    CHECK((*resolver)->take_answers().empty());
}

TEST_CASE("name resolver: the queue is bounded") {
    auto gate = std::make_shared<Gate>();
    auto resolver =
        NameResolver::create([gate](const std::string& n) { return gate->pass(n); }, [] {});
    REQUIRE(resolver);
    REQUIRE((*resolver)->ask({key(1), "good:7"}));
    REQUIRE(eventually([&] { return gate->entered == 1; }));  // the worker holds it
    for (std::size_t i = 0; i < NameResolver::max_pending; ++i)
        REQUIRE((*resolver)->ask({key(2), "good:7"}));
    CHECK_FALSE((*resolver)->ask({key(3), "good:7"}));
    gate->release();
    REQUIRE(eventually([&] { return gate->left == int(NameResolver::max_pending) + 1; }));
    CHECK((*resolver)->ask({key(3), "good:7"}));  // room again
}

TEST_CASE("name resolver: destroyed during a slow lookup, it returns at once and stays quiet") {
    auto gate = std::make_shared<Gate>();
    auto wakes = std::make_shared<std::atomic<int>>(0);
    auto resolver = NameResolver::create([gate](const std::string& n) { return gate->pass(n); },
                                         [wakes] { ++*wakes; });
    REQUIRE(resolver);
    REQUIRE((*resolver)->ask({key(1), "good:7"}));
    REQUIRE(eventually([&] { return gate->entered == 1; }));
    const auto before = std::chrono::steady_clock::now();
    resolver->reset();
    CHECK(std::chrono::steady_clock::now() - before < 100ms);
    gate->release();  // the lookup finishes after its resolver is gone
    REQUIRE(eventually([&] { return gate->left == 1; }));
    std::this_thread::sleep_for(20ms);  // time for a wake-up that must not come
    CHECK(*wakes == 0);
}

TEST_CASE("name resolver: an idle one is destroyed at once") {
    auto resolver = NameResolver::create(answer_for, [] {});
    REQUIRE(resolver);
    const auto before = std::chrono::steady_clock::now();
    resolver->reset();
    CHECK(std::chrono::steady_clock::now() - before < 100ms);
}
