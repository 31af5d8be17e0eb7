// The lookup worker: one thread, a bounded queue of names in, a queue of answers out.
#include "daemon/backend/name_resolver.hpp"

#include <pthread.h>
#include <signal.h>

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <system_error>

namespace ringtun::daemon {

struct NameResolver::Shared {
    LookupFn lookup;
    WakeFn wake;
    std::mutex mutex;
    std::condition_variable work;  // a lookup queued, or stopped
    std::deque<NameLookup> pending;
    std::vector<NameAnswer> answers;
    bool stopped = false;
    bool busy = false;  // the worker is in a lookup
};

namespace {

// The lookup, with whatever it throws turned into a problem: the worker must not end.
Resolved look_up(const NameResolver::LookupFn& lookup, const std::string& name) noexcept {
    try {
        return lookup(name);
    } catch (const std::exception& e) {
        return Resolved{std::nullopt, e.what()};
    } catch (...) {
        return Resolved{std::nullopt, "the lookup failed"};
    }
}

}  // namespace

util::Result<std::unique_ptr<NameResolver>> NameResolver::create(LookupFn lookup, WakeFn wake) {
    auto shared = std::make_shared<Shared>();
    shared->lookup = std::move(lookup);
    shared->wake = std::move(wake);
    std::unique_ptr<NameResolver> resolver(new NameResolver(shared));
    // The worker inherits this thread's signal mask: every signal blocked, so the handlers run
    // on the loop's thread, as they did before the worker existed.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    try {
        resolver->worker_ = std::thread(&NameResolver::work, std::move(shared));
    } catch (const std::system_error& e) {
        pthread_sigmask(SIG_SETMASK, &old, nullptr);
        return util::fail(util::make_error("name lookups", e.what()));
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    return resolver;
}

NameResolver::~NameResolver() {
    bool idle = false;
    {
        std::lock_guard lock(shared_->mutex);
        shared_->stopped = true;
        idle = !shared_->busy;
    }
    shared_->work.notify_all();
    // Idle, the worker sees `stopped` as soon as it wakes and takes nothing more. In a lookup, it
    // may be held for as long as the resolver takes: it ends by itself once that returns.
    if (idle)
        worker_.join();
    else
        worker_.detach();
}

bool NameResolver::ask(NameLookup lookup) {
    {
        std::lock_guard lock(shared_->mutex);
        if (shared_->pending.size() >= max_pending) return false;
        shared_->pending.push_back(std::move(lookup));
    }
    shared_->work.notify_one();
    return true;
}

std::vector<NameAnswer> NameResolver::take_answers() {
    std::vector<NameAnswer> out;
    std::lock_guard lock(shared_->mutex);
    out.swap(shared_->answers);
    return out;
}

void NameResolver::work(std::shared_ptr<Shared> s) noexcept {
    std::unique_lock lock(s->mutex);
    for (;;) {
        s->work.wait(lock, [&s] { return s->stopped || !s->pending.empty(); });
        if (s->stopped) return;
        NameLookup asked = std::move(s->pending.front());
        s->pending.pop_front();
        s->busy = true;
        lock.unlock();
        Resolved resolved = look_up(s->lookup, asked.name);
        lock.lock();
        s->busy = false;
        if (s->stopped) return;  // nobody takes answers any more
        s->answers.push_back({asked.peer, std::move(asked.name), std::move(resolved)});
        if (s->wake) s->wake();
    }
}

}  // namespace ringtun::daemon
