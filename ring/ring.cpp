// Ring: setup with fallbacks, SQE hand-out, submission, cancellation; see ring.hpp.
#include "ring/ring.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "util/log.hpp"

namespace ringtun::ring {

namespace {

// The Ring's own requests, told apart by the slot field of an internal user_data.
enum InternalOp : std::uint32_t { kCancelAny = 1, kCancelFd = 2, kCancelRequest = 3 };

constexpr std::uint64_t internal_user_data(InternalOp op) noexcept {
    return encode(UserData{.kind = kInternalKind, .slot = op});
}

constexpr unsigned kBaseFlags = IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP;

unsigned taskrun_flags(TaskRun mode) noexcept {
    switch (mode) {
        case TaskRun::defer:
            return IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
        case TaskRun::coop:
            return IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
        case TaskRun::none:
            return 0;
    }
    return 0;
}

// io_uring_register(2) itself: Debian's liburing 2.3 declares io_uring_register_restrictions
// and io_uring_enable_rings but its shared library does not export them (they are missing
// from its symbol map). 0, or -1 with errno.
int register_op(int ring_fd, unsigned op, const void* arg, unsigned nr) noexcept {
    return static_cast<int>(::syscall(__NR_io_uring_register, ring_fd, op, arg, nr));
}

std::string describe_flags(unsigned flags) {
    static constexpr struct {
        unsigned bit;
        const char* name;
    } kNames[] = {
        {IORING_SETUP_SQPOLL, "SQPOLL"},
        {IORING_SETUP_CQSIZE, "CQSIZE"},
        {IORING_SETUP_CLAMP, "CLAMP"},
        {IORING_SETUP_SUBMIT_ALL, "SUBMIT_ALL"},
        {IORING_SETUP_COOP_TASKRUN, "COOP_TASKRUN"},
        {IORING_SETUP_TASKRUN_FLAG, "TASKRUN_FLAG"},
        {IORING_SETUP_SINGLE_ISSUER, "SINGLE_ISSUER"},
        {IORING_SETUP_DEFER_TASKRUN, "DEFER_TASKRUN"},
        {IORING_SETUP_R_DISABLED, "R_DISABLED"},
    };
    std::string s;
    for (const auto& n : kNames) {
        if (!(flags & n.bit)) continue;
        if (!s.empty()) s += '|';
        s += n.name;
    }
    return s.empty() ? "none" : s;
}

}  // namespace

const char* to_string(TaskRun mode) noexcept {
    switch (mode) {
        case TaskRun::defer:
            return "defer";
        case TaskRun::coop:
            return "coop";
        case TaskRun::none:
            return "none";
    }
    return "?";
}

util::Result<std::unique_ptr<Ring>> Ring::create(const RingParams& params) {
    std::unique_ptr<Ring> ring(new Ring());
    if (auto r = ring->setup(params); !r) return util::fail(r.error());
    return ring;
}

// Tries the preferred task-run mode, then each weaker one, on -EINVAL; then once more without
// SUBMIT_ALL (5.18). Any other errno is final: it is not about the flags.
util::Result<void> Ring::setup(const RingParams& params) {
    const unsigned cq = params.cq_entries != 0 ? params.cq_entries : 4 * params.entries;
    struct Attempt {
        unsigned flags;
        TaskRun mode;
    };
    Attempt attempts[5];
    unsigned n = 0;
    if (params.sqpoll_idle_ms > 0) {
        attempts[n++] = {IORING_SETUP_SQPOLL | IORING_SETUP_SUBMIT_ALL, TaskRun::none};
        attempts[n++] = {IORING_SETUP_SQPOLL, TaskRun::none};
    } else {
        for (auto m : {TaskRun::defer, TaskRun::coop, TaskRun::none}) {
            if (m < params.taskrun) continue;
            attempts[n++] = {taskrun_flags(m) | IORING_SETUP_SUBMIT_ALL, m};
        }
        attempts[n++] = {0, TaskRun::none};
    }
    const unsigned disabled = params.restrictions != nullptr ? IORING_SETUP_R_DISABLED : 0;
    int err = -EINVAL;
    for (unsigned i = 0; i < n && err == -EINVAL; ++i) {
        io_uring_params p{};
        p.flags = kBaseFlags | disabled | attempts[i].flags;
        p.cq_entries = cq;
        p.sq_thread_idle = params.sqpoll_idle_ms;
        err = io_uring_queue_init_params(params.entries, &ring_, &p);
        if (err == 0) taskrun_ = attempts[i].mode;
        if (err == -EINVAL)
            RT_LOG_DEBUG("io_uring setup %s rejected", describe_flags(p.flags).c_str());
    }
    if (err != 0) return util::fail(util::sys_error("io_uring_queue_init_params", err));
    initialised_ = true;
    if (!(ring_.features & IORING_FEAT_EXT_ARG)) {
        return util::fail(util::make_error("io_uring", "kernel lacks IORING_FEAT_EXT_ARG (5.11)"));
    }
    disabled_ = disabled != 0;
    std::string restricted;
    if (params.restrictions != nullptr) {
        auto r = restrict_to(*params.restrictions);
        if (!r) return util::fail(r.error());
        restricted = std::move(*r);
    }
    // Saves an fdget per io_uring_enter; optional (5.18).
    ring_fd_registered_ = io_uring_register_ring_fd(&ring_) == 1;
    RT_LOG_INFO("io_uring: sq %u, cq %u, setup %s, task run %s%s%s", ring_.sq.ring_entries,
                ring_.cq.ring_entries, describe_flags(ring_.flags).c_str(), to_string(taskrun_),
                ring_fd_registered_ ? ", ring fd registered" : "", restricted.c_str());
    return {};
}

// The kernel refuses a set naming an operation beyond the last it knows (-EINVAL for all of
// it), so those are left out: the probe (allowed on a disabled ring) says where its list ends.
util::Result<std::string> Ring::restrict_to(const Restrictions& r) {
    unsigned last_op = 255;
    if (const Probe probe{io_uring_get_probe_ring(&ring_)}) last_op = probe->last_op;
    std::vector<io_uring_restriction> set;
    for (std::uint8_t op : r.operations) {
        if (op > last_op) continue;
        io_uring_restriction e{};
        e.opcode = IORING_RESTRICTION_SQE_OP;
        e.sqe_op = op;
        set.push_back(e);
    }
    const std::size_t operations = set.size();
    for (std::uint8_t op : r.register_ops) {
        io_uring_restriction e{};
        e.opcode = IORING_RESTRICTION_REGISTER_OP;
        e.register_op = op;
        set.push_back(e);
    }
    io_uring_restriction flags{};
    flags.opcode = IORING_RESTRICTION_SQE_FLAGS_ALLOWED;
    flags.sqe_flags = r.sqe_flags;
    set.push_back(flags);
    if (register_op(ring_.ring_fd, IORING_REGISTER_RESTRICTIONS, set.data(),
                    static_cast<unsigned>(set.size())) != 0)
        return util::fail(util::sys_error("io_uring_register(RESTRICTIONS)", errno));
    return ", restricted to " + std::to_string(operations) + " operations and " +
           std::to_string(r.register_ops.size()) + " register operations";
}

util::Result<void> Ring::enable() {
    if (!disabled_) return {};
    if (register_op(ring_.ring_fd, IORING_REGISTER_ENABLE_RINGS, nullptr, 0) != 0)
        return util::fail(util::sys_error("io_uring_register(ENABLE_RINGS)", errno));
    disabled_ = false;
    return {};
}

Ring::~Ring() {
    if (!initialised_) return;
    if (buffer_rings_ != 0)
        RT_LOG_ERROR("io_uring: destroyed before %u buffer ring(s)", buffer_rings_);
    if (in_flight_ != 0)
        RT_LOG_WARN("io_uring: destroyed with %u request(s) in flight", in_flight_);
    io_uring_queue_exit(&ring_);
}

io_uring_sqe* Ring::get_sqe() noexcept {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    // A full SQ: push it to the kernel. With SQPOLL the thread consumes asynchronously, so
    // wait for room. Bounded: if the kernel refuses twice, the caller must reap first.
    for (int attempt = 0; sqe == nullptr && attempt < 2; ++attempt) {
        const int r = io_uring_submit(&ring_);
        if (r < 0 && r != -EINTR && r != -EAGAIN) break;
        if (sqpoll()) io_uring_sqring_wait(&ring_);
        sqe = io_uring_get_sqe(&ring_);
    }
    if (sqe != nullptr) ++in_flight_;
    return sqe;
}

int Ring::submit() noexcept {
    // With SQPOLL the thread picks SQEs up; enter only when liburing sees a reason to
    // (thread asleep, CQ overflow). Otherwise one enter both submits and runs completions.
    const int r = sqpoll() ? io_uring_submit(&ring_) : io_uring_submit_and_get_events(&ring_);
    return r == -EINTR || r == -EAGAIN ? 0 : r;
}

int Ring::submit_and_wait(unsigned min_complete, std::chrono::nanoseconds timeout) noexcept {
    if (min_complete == 0) return submit();
    if (timeout.count() < 0) timeout = std::chrono::nanoseconds(0);
    __kernel_timespec ts{};
    ts.tv_sec = static_cast<long long>(timeout.count() / 1'000'000'000);
    ts.tv_nsec = static_cast<long long>(timeout.count() % 1'000'000'000);
    io_uring_cqe* cqe = nullptr;
    const int r = io_uring_submit_and_wait_timeout(&ring_, &cqe, min_complete, &ts, nullptr);
    return r == -ETIME || r == -EINTR || r == -EAGAIN ? 0 : r;
}

void Ring::cancel_all(std::span<const int> fallback_fds) {
    fallback_fds_.assign(fallback_fds.begin(), fallback_fds.end());
    io_uring_sqe* sqe = get_sqe();
    if (sqe == nullptr) {
        RT_LOG_ERROR("io_uring: no SQE for cancel-all");
        return;
    }
    io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY | IORING_ASYNC_CANCEL_ALL);
    io_uring_sqe_set_data64(sqe, internal_user_data(kCancelAny));
}

bool Ring::cancel_fd(int fd, bool fixed) noexcept {
    io_uring_sqe* sqe = get_sqe();
    if (sqe == nullptr) {
        RT_LOG_ERROR("io_uring: no SQE to cancel fd %d", fd);
        return false;
    }
    unsigned flags = IORING_ASYNC_CANCEL_ALL | (fixed ? IORING_ASYNC_CANCEL_FD_FIXED : 0);
    io_uring_prep_cancel_fd(sqe, fd, flags);
    io_uring_sqe_set_data64(sqe, internal_user_data(kCancelFd));
    return true;
}

bool Ring::cancel_request(std::uint64_t user_data) noexcept {
    io_uring_sqe* sqe = get_sqe();
    if (sqe == nullptr) {
        RT_LOG_ERROR("io_uring: no SQE to cancel a request");
        return false;
    }
    io_uring_prep_cancel64(sqe, user_data, 0);
    io_uring_sqe_set_data64(sqe, internal_user_data(kCancelRequest));
    return true;
}

// Results of our cancel requests: a count, -ENOENT (nothing matched) or -EALREADY are fine;
// -EINVAL for CANCEL_ANY means an old kernel: fall back to per-fd cancellation.
void Ring::on_internal(const io_uring_cqe& cqe) noexcept {
    const auto op = decode(cqe.user_data).slot;
    if (op == kCancelAny && cqe.res == -EINVAL) {
        RT_LOG_WARN("io_uring: IORING_ASYNC_CANCEL_ANY rejected; cancelling per fd");
        for (unsigned i = 0; i < files_.size(); ++i) {
            if (files_[i] >= 0) cancel_fd(static_cast<int>(i), true);
        }
        for (int fd : fallback_fds_)
            cancel_fd(fd, false);
        return;
    }
    if (cqe.res < 0 && cqe.res != -ENOENT && cqe.res != -EALREADY) {
        RT_LOG_WARN("io_uring: internal request %u failed: %d", op, cqe.res);
    } else {
        RT_LOG_DEBUG("io_uring: internal request %u: %d", op, cqe.res);
    }
}

util::Result<void> Ring::register_files(std::span<const int> fds) {
    if (!files_.empty())
        return util::fail(util::make_error("io_uring_register_files", "already registered"));
    const int r = io_uring_register_files(&ring_, fds.data(), static_cast<unsigned>(fds.size()));
    if (r < 0) return util::fail(util::sys_error("io_uring_register_files", r));
    files_.assign(fds.begin(), fds.end());
    return {};
}

util::Result<void> Ring::update_file(unsigned index, int fd) {
    if (index >= files_.size())
        return util::fail(util::make_error("io_uring_register_files_update", "index out of range"));
    const int r = io_uring_register_files_update(&ring_, index, &fd, 1);
    if (r < 0) return util::fail(util::sys_error("io_uring_register_files_update", r));
    files_[index] = fd;
    return {};
}

util::Result<void> Ring::unregister_files() {
    const int r = io_uring_unregister_files(&ring_);
    if (r < 0) return util::fail(util::sys_error("io_uring_unregister_files", r));
    files_.clear();
    return {};
}

}  // namespace ringtun::ring
