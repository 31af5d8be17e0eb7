// What one read of the link watch (RunHooks::link_watch) means, decided here for every
// backend: a datagram goes to the hook; an overrun socket (ENOBUFS: news were lost) hands the
// hook an empty span, so that the link's state is asked for; neither while the loop stops. An
// end of file or any other error ends the watch (logged).
#pragma once

#include <cstdint>
#include <span>

#include "daemon/backend/io_backend.hpp"

namespace ringtun::daemon {

// What the loop does with the link watch after a read.
enum class LinkRead : std::uint8_t {
    more,   // read again
    idle,   // nothing to read now (EAGAIN, EINTR), or the read was cancelled
    ended,  // stop watching: the caller forgets the fd
};

// `result`: the bytes read into `buf` (> 0), 0 at the end of file, or -errno.
LinkRead take_link_read(const RunHooks& hooks, std::span<const std::uint8_t> buf, long result,
                        bool stopping) noexcept;

}  // namespace ringtun::daemon
