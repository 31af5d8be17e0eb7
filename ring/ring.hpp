// Ring: the owning wrapper of one io_uring instance, the mechanism the daemon's single loop is
// built on. It sets the ring up with the best mode the kernel accepts, hands out SQEs,
// submits and waits, walks completions in batches, and keeps the count of requests in flight
// so that shutdown can cancel everything and wait until nothing is left.
//
// In-flight accounting: every SQE handed out by get_sqe() is one request; a CQE without
// IORING_CQE_F_MORE ends one. That covers multishot requests, zero-copy sends (the NOTIF CQE
// is the last), timeouts and cancellations alike. Therefore: never set IOSQE_CQE_SKIP_SUCCESS,
// and fill every SQE get_sqe() returns (an unused one would be submitted as garbage).
//
// Threading: create, use and destroy the Ring on the loop thread only. With SINGLE_ISSUER the
// kernel rejects submissions from any other thread.
//
// Restriction (IORING_REGISTER_RESTRICTIONS, 5.10): a ring created with RingParams::restrictions
// starts disabled, with the allowed operations, register operations and SQE flags registered.
// Until enable() every registration works (files, buffer rings: the loop's set-up); after it
// the kernel refuses anything else with -EACCES: an SQE's CQE for an operation or flag outside
// the set, io_uring_register's return for a register operation outside it.
#pragma once

#include <liburing.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "ring/user_data.hpp"
#include "util/result.hpp"

namespace ringtun::ring {

// How completions' task work is run; each mode falls back to the next on -EINVAL.
//   defer: SINGLE_ISSUER|DEFER_TASKRUN (6.1) — work runs only when we wait: fewest wake-ups.
//   coop:  COOP_TASKRUN|TASKRUN_FLAG (5.19) — no IPIs to interrupt us; work runs on entry.
//   none:  the kernel's default.
enum class TaskRun : std::uint8_t { defer, coop, none };
const char* to_string(TaskRun mode) noexcept;

// An io_uring probe (io_uring_get_probe, io_uring_get_probe_ring), freed when it goes.
struct ProbeDeleter {
    void operator()(io_uring_probe* p) const noexcept { io_uring_free_probe(p); }
};
using Probe = std::unique_ptr<io_uring_probe, ProbeDeleter>;

// What a restricted ring may be asked once enabled. Operations the kernel does not know are
// left out of what is registered (the kernel would refuse the whole set for one of them; it
// could not run them anyway).
struct Restrictions {
    std::span<const std::uint8_t> operations;    // IORING_OP_*
    std::span<const std::uint8_t> register_ops;  // IORING_REGISTER_* / IORING_UNREGISTER_*
    std::uint8_t sqe_flags = 0;                  // IOSQE_* an SQE may carry (others: -EACCES)
};

struct RingParams {
    unsigned entries = 256;            // SQ size; the kernel rounds up to a power of two
    unsigned cq_entries = 0;           // 0 = 4 * entries; never let the CQ be the bottleneck
    unsigned sqpoll_idle_ms = 0;       // > 0: SQPOLL thread idling this long (excludes defer/coop)
    TaskRun taskrun = TaskRun::defer;  // the preferred mode; ignored with SQPOLL
    // Non-null: the ring is created disabled and restricted to these; call enable() once
    // the registrations of set-up are done. The spans need not outlive create().
    const Restrictions* restrictions = nullptr;
};

class Ring {
  public:
    // Requires IORING_FEAT_EXT_ARG (5.11) for waits with a timeout. Errors keep the errno of
    // io_uring_setup: EPERM / ENOSYS mean io_uring is unavailable (use the fallback backend).
    static util::Result<std::unique_ptr<Ring>> create(const RingParams& params);

    Ring(const Ring&) = delete;
    Ring& operator=(const Ring&) = delete;
    Ring(Ring&&) = delete;
    Ring& operator=(Ring&&) = delete;
    // Precondition: in_flight() == 0 (drain first) and every BufferRing on it destroyed.
    ~Ring();

    // An SQE to fill; counted in flight from here on. If the SQ is full, submits and retries.
    // nullptr only if the kernel refuses submission (e.g. -EBUSY with a CQ overflow backlog):
    // reap, then try again.
    [[nodiscard]] io_uring_sqe* get_sqe() noexcept;

    // Submits pending SQEs without waiting and lets the kernel post finished completions
    // (one io_uring_enter; with SQPOLL only when the thread sleeps or the CQ overflowed).
    // Returns SQEs submitted or -errno.
    [[nodiscard]] int submit() noexcept;

    // Submits pending SQEs and waits until `min_complete` CQEs are ready or `timeout` passes.
    // Returns SQEs submitted (a timeout or signal is not an error), or -errno.
    [[nodiscard]] int submit_and_wait(unsigned min_complete,
                                      std::chrono::nanoseconds timeout) noexcept;

    // Calls on_cqe(const io_uring_cqe&) for each ready CQE (at most one CQ's worth), except
    // the Ring's own (kInternalKind), then advances the CQ once. Returns CQEs consumed.
    // on_cqe may call get_sqe(); those SQEs go out with the next submit. With TaskRun::defer
    // new CQEs appear only inside submit()/submit_and_wait(), never on their own.
    template <class F>
    unsigned reap(F&& on_cqe) noexcept;

    // Cancels every request in flight (IORING_ASYNC_CANCEL_ANY|ALL, 5.19). If the kernel
    // rejects that, cancels per fd instead: each registered file and each of `fallback_fds`
    // (all three cancel flags arrived in 5.19 together, so this path is for odd backports).
    // Submitted with the next submit; follow with drain().
    void cancel_all(std::span<const int> fallback_fds = {});

    // Cancels all requests on one fd, or on registered file `fd` if `fixed`. False (logged)
    // when no submission entry could be had: try again after reaping.
    bool cancel_fd(int fd, bool fixed) noexcept;
    // Cancels the request whose user_data is `user_data` (the first, if several share it);
    // false as cancel_fd.
    bool cancel_request(std::uint64_t user_data) noexcept;

    // Reaps (passing every CQE to on_cqe, so slots and buffers go back) until in_flight()
    // reaches 0, `timeout` passes or the kernel refuses to enter. Returns how many requests
    // ended with -ECANCELED; in_flight() > 0 afterwards means the drain was incomplete.
    template <class F>
    unsigned drain(F&& on_cqe, std::chrono::nanoseconds timeout) noexcept;

    // Starts a ring created with restrictions: from here on only what they allow is accepted
    // (with SQPOLL, the kernel thread starts submitting now). Nothing to do for other rings.
    util::Result<void> enable();

    // Registered file table; -1 entries are empty slots. One table per ring.
    util::Result<void> register_files(std::span<const int> fds);
    util::Result<void> update_file(unsigned index, int fd);
    util::Result<void> unregister_files();

    unsigned in_flight() const noexcept { return in_flight_; }
    // CQEs the kernel dropped because the CQ and its backlog were full (stats; should stay 0).
    unsigned cq_overflow() const noexcept {
        return __atomic_load_n(ring_.cq.koverflow, __ATOMIC_RELAXED);
    }
    unsigned setup_flags() const noexcept { return ring_.flags; }
    TaskRun taskrun() const noexcept { return taskrun_; }
    bool sqpoll() const noexcept { return (ring_.flags & IORING_SETUP_SQPOLL) != 0; }
    bool ring_fd_registered() const noexcept { return ring_fd_registered_; }
    unsigned sq_entries() const noexcept { return ring_.sq.ring_entries; }
    unsigned cq_entries() const noexcept { return ring_.cq.ring_entries; }

    // For liburing calls this class does not wrap (registrations, probes).
    io_uring& native() noexcept { return ring_; }

  private:
    friend class BufferRing;  // counts itself in buffer_rings_

    Ring() = default;
    util::Result<void> setup(const RingParams& params);
    // Registers `r`; returns what it allows, for the set-up log line.
    util::Result<std::string> restrict_to(const Restrictions& r);
    void on_internal(const io_uring_cqe& cqe) noexcept;
    void end_one(const io_uring_cqe& cqe) noexcept {
        if (!(cqe.flags & IORING_CQE_F_MORE) && in_flight_ > 0) --in_flight_;
    }

    io_uring ring_{};
    bool initialised_ = false;
    bool ring_fd_registered_ = false;
    bool disabled_ = false;  // created with IORING_SETUP_R_DISABLED, enable() not yet called
    TaskRun taskrun_ = TaskRun::none;
    unsigned in_flight_ = 0;
    unsigned buffer_rings_ = 0;
    std::vector<int> files_;         // registered table, for the per-fd cancel fallback
    std::vector<int> fallback_fds_;  // from cancel_all, used if CANCEL_ANY is rejected
};

template <class F>
unsigned Ring::reap(F&& on_cqe) noexcept {
    unsigned head;
    unsigned seen = 0;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(&ring_, head, cqe) {
        ++seen;
        end_one(*cqe);
        if (kind_of(cqe->user_data) == kInternalKind) {
            on_internal(*cqe);
        } else {
            on_cqe(std::as_const(*cqe));
        }
        // Handlers may submit and so produce more CQEs; keep each batch bounded.
        if (seen == ring_.cq.ring_entries) break;
    }
    io_uring_cq_advance(&ring_, seen);
    return seen;
}

template <class F>
unsigned Ring::drain(F&& on_cqe, std::chrono::nanoseconds timeout) noexcept {
    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + timeout;
    unsigned canceled = 0;
    auto count = [&](const io_uring_cqe& cqe) {
        if (cqe.res == -ECANCELED && !(cqe.flags & IORING_CQE_F_MORE)) ++canceled;
        on_cqe(cqe);
    };
    reap(count);
    while (in_flight_ > 0) {
        const auto now = Clock::now();
        if (now >= deadline) break;
        // -EBUSY (CQ backlog) clears by reaping; any other error would not clear by waiting.
        const int r = submit_and_wait(1, deadline - now);
        if (r < 0 && r != -EBUSY) break;
        reap(count);
    }
    return canceled;
}

}  // namespace ringtun::ring
