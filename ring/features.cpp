// Runtime probe of io_uring features; see features.hpp.
#include "ring/features.hpp"

#include <liburing.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <charconv>
#include <memory>

#include "ring/compat.hpp"
#include "ring/mapping.hpp"
#include "ring/ring.hpp"
#include "util/log.hpp"
#include "util/unique_fd.hpp"

namespace ringtun::ring {

namespace {

// A throw-away ring for one probe; torn down (cancelling anything pending) on scope exit.
class ProbeRing {
  public:
    explicit ProbeRing(unsigned flags) noexcept {
        io_uring_params p{};
        p.flags = flags;
        err_ = io_uring_queue_init_params(8, &ring_, &p);
        features_ = p.features;
    }
    ProbeRing(const ProbeRing&) = delete;
    ProbeRing& operator=(const ProbeRing&) = delete;
    ~ProbeRing() {
        if (err_ == 0) io_uring_queue_exit(&ring_);
    }

    int error() const noexcept { return err_; }  // 0 or -errno from setup
    std::uint32_t features() const noexcept { return features_; }
    io_uring* get() noexcept { return &ring_; }

  private:
    io_uring ring_{};
    int err_ = 0;
    std::uint32_t features_ = 0;
};

std::bitset<256> probe_opcodes(ProbeRing& ring) {
    std::bitset<256> ops;
    const Probe probe(io_uring_get_probe_ring(ring.get()));
    if (!probe) return ops;
    for (unsigned op = 0; op <= probe->last_op && op < ops.size(); ++op) {
        if (io_uring_opcode_supported(probe.get(), static_cast<int>(op))) ops.set(op);
    }
    return ops;
}

// Registers and unregisters a one-entry buffer ring.
bool try_buffer_ring(ProbeRing& ring) {
    auto map = Mapping::anonymous(static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)), false);
    if (!map) return false;
    io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<std::uintptr_t>(map->data());
    reg.ring_entries = 1;
    reg.bgid = 0;
    if (io_uring_register_buf_ring(ring.get(), &reg, 0) != 0) return false;
    io_uring_unregister_buf_ring(ring.get(), 0);
    return true;
}

// A multishot recvmsg with buffer selection from a group that does not exist, on a socket
// with a datagram queued: a kernel that knows the flag fails buffer selection (-ENOBUFS),
// one that does not rejects the SQE (-EINVAL).
bool try_recvmsg_multishot(ProbeRing& ring) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) != 0) return false;
    util::UniqueFd a(sv[0]), b(sv[1]);
    const char byte = 0;
    if (::send(b.get(), &byte, 1, 0) != 1) return false;

    msghdr msg{};
    io_uring_sqe* sqe = io_uring_get_sqe(ring.get());
    io_uring_prep_recvmsg_multishot(sqe, a.get(), &msg, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = 0x7fff;
    io_uring_cqe* cqe = nullptr;
    __kernel_timespec ts{.tv_sec = 1, .tv_nsec = 0};
    if (io_uring_submit_and_wait_timeout(ring.get(), &cqe, 1, &ts, nullptr) < 0 || !cqe) {
        return false;
    }
    return cqe->res == -ENOBUFS;
}

}  // namespace

std::optional<KernelVersion> parse_kernel_release(std::string_view release) noexcept {
    const char* p = release.data();
    const char* const end = p + release.size();
    auto number = [&](unsigned& out) {
        auto [next, ec] = std::from_chars(p, end, out);
        if (ec != std::errc{}) return false;
        p = next;
        return true;
    };
    auto dot = [&] {
        if (p == end || *p != '.') return false;
        ++p;
        return true;
    };
    KernelVersion v;
    if (!number(v.major) || !dot() || !number(v.minor)) return std::nullopt;
    if (dot()) number(v.patch);  // "6.1-rc1" has none
    return v;
}

util::Result<KernelVersion> running_kernel() {
    utsname u{};
    if (::uname(&u) != 0) return util::fail(util::sys_error("uname", errno));
    auto v = parse_kernel_release(u.release);
    if (!v)
        return util::fail(
            util::make_error("uname", std::string("unparsable release ") + u.release));
    return *v;
}

util::Result<Features> probe_features() {
    Features f;
    auto kernel = running_kernel();
    if (!kernel) return util::fail(kernel.error());
    f.kernel = *kernel;

    ProbeRing plain(0);
    if (plain.error() != 0) {
        return util::fail(
            util::sys_error("io_uring_queue_init_params", plain.error(),
                            "io_uring unavailable (disabled, or blocked by seccomp)"));
    }
    f.feature_bits = plain.features();
    f.opcodes = probe_opcodes(plain);
    f.read_multishot = f.supports(kOpReadMultishot);
    f.send_zc = f.supports(kOpSendZc) && f.supports(kOpSendmsgZc);
    f.buffer_rings = try_buffer_ring(plain);
    f.recvmsg_multishot = f.supports(IORING_OP_RECVMSG) && try_recvmsg_multishot(plain);
    f.single_issuer_defer_taskrun =
        ProbeRing(IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN).error() == 0;
    f.coop_taskrun = ProbeRing(IORING_SETUP_COOP_TASKRUN).error() == 0;
    return f;
}

void log_features(const Features& f) {
    RT_LOG_INFO("kernel %u.%u.%u; io_uring features 0x%x", f.kernel.major, f.kernel.minor,
                f.kernel.patch, f.feature_bits);
    RT_LOG_INFO(
        "io_uring: read_multishot=%d recvmsg_multishot=%d buffer_rings=%d send_zc=%d "
        "defer_taskrun=%d coop_taskrun=%d",
        f.read_multishot, f.recvmsg_multishot, f.buffer_rings, f.send_zc,
        f.single_issuer_defer_taskrun, f.coop_taskrun);
}

bool tun_blocking_default(const KernelVersion& kernel) noexcept {
    return kernel < KernelVersion{5, 7, 0};
}

const char* tun_blocking_reason(const KernelVersion& kernel) noexcept {
    if (kernel >= KernelVersion{6, 4, 0})
        return "blocking would punt reads to io-wq threads after 128 empty wake-ups";
    if (kernel >= KernelVersion{5, 7, 0})
        return "before 6.4 every read on a blocking TUN fd is punted to an io-wq thread";
    return "before 5.7 (no FAST_POLL) a non-blocking read fails with EAGAIN at once";
}

IoDefaults recommended_defaults(const Features& f) noexcept {
    IoDefaults d;
    d.tun_nonblocking = !tun_blocking_default(f.kernel);
    d.tun_read_multishot = f.read_multishot && f.buffer_rings;
    d.tun_reads_in_flight = d.tun_read_multishot ? 1 : 8;
    d.udp_recv_multishot = f.recvmsg_multishot && f.buffer_rings;
    d.udp_recvs_in_flight = d.udp_recv_multishot ? 1 : 16;
    d.defer_taskrun = f.single_issuer_defer_taskrun;
    return d;
}

}  // namespace ringtun::ring
