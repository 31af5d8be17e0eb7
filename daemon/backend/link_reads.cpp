#include "daemon/backend/link_reads.hpp"

#include <cerrno>
#include <cstring>

#include "util/log.hpp"

namespace ringtun::daemon {

LinkRead take_link_read(const RunHooks& hooks, std::span<const std::uint8_t> buf, long result,
                        bool stopping) noexcept {
    if (result > 0 || result == -ENOBUFS) {
        if (!stopping && hooks.on_link)
            hooks.on_link(result > 0 ? buf.first(static_cast<std::size_t>(result))
                                     : std::span<const std::uint8_t>());
        return LinkRead::more;
    }
    if (result == -EAGAIN || result == -EINTR || result == -ECANCELED) return LinkRead::idle;
    RT_LOG_WARN("link watch: read failed: %s; the link is no longer watched",
                result < 0 ? std::strerror(static_cast<int>(-result)) : "end of file");
    return LinkRead::ended;
}

}  // namespace ringtun::daemon
