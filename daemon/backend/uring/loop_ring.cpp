// The loop's restricted ring; see loop_ring.hpp.
#include "daemon/backend/uring/loop_ring.hpp"

#include "daemon/backend/uring/loop_internal.hpp"
#include "daemon/backend/uring/opcodes.hpp"

namespace ringtun::daemon {

namespace {

bool used(OpUse when, const RingUses& u) noexcept {
    switch (when) {
        case OpUse::always:
            return true;
        case OpUse::tun_multishot:
            return u.tun_multishot;
        case OpUse::tcp:
            return u.tcp;
        case OpUse::streams:
            return u.streams;
        case OpUse::tcp_or_streams:
            return u.tcp || u.streams;
    }
    return true;
}

}  // namespace

std::vector<std::uint8_t> loop_operations(const RingUses& uses) {
    std::vector<std::uint8_t> ops;
    for (const UringOpcode& o : kUringOpcodes)
        if (used(o.when, uses)) ops.push_back(o.op);
    return ops;
}

util::Result<std::unique_ptr<ring::Ring>> create_loop_ring(const LoopParams& params,
                                                           const RingUses& uses) {
    const std::vector<std::uint8_t> ops = loop_operations(uses);
    std::vector<std::uint8_t> register_ops;
    for (const UringRegisterOp& r : kUringRegisterOps)
        register_ops.push_back(r.op);
    const ring::Restrictions restrictions{
        .operations = ops, .register_ops = register_ops, .sqe_flags = kUringSqeFlags};
    return ring::Ring::create({.entries = params.entries,
                               .cq_entries = params.entries * loop_detail::cq_factor,
                               .sqpoll_idle_ms = params.sqpoll_idle_ms,
                               .taskrun = params.taskrun,
                               .restrictions = &restrictions});
}

}  // namespace ringtun::daemon
