// The backend "auto" takes; see backend_choice.hpp.
#include "daemon/cli/backend_choice.hpp"

#include "daemon/cli/settings.hpp"

namespace ringtun::daemon {

const char* to_string(Backend b) noexcept {
    return b == Backend::io_uring ? "io_uring" : "epoll";
}

BackendChoice choose_backend(const ring::IoUringAvailability& availability,
                             const util::Result<ring::Features>& features) {
    if (!availability.usable) return {Backend::epoll, "io_uring refused: " + availability.reason};
    if (!features)
        return {Backend::epoll, "io_uring feature probe failed: " + features.error().to_string()};
    // What the loop refuses to start without, decided where run decides it (an empty [ring]
    // asks for nothing else).
    bool tun_blocking = false;
    if (auto params = loop_params(conf::RingTunables{}, 1420, *features, tun_blocking); !params)
        return {Backend::epoll,
                "io_uring lacks what the loop needs: " + params.error().to_string()};
    return {Backend::io_uring, "io_uring permitted, with multishot recvmsg and buffer rings"};
}

}  // namespace ringtun::daemon
