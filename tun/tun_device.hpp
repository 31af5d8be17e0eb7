// TunDevice: an owned Linux TUN interface fd (layer 3, no packet-information header).
//
// Every read() yields one IP packet and every write() injects one, with no framing. The
// device is either created here (TUNSETIFF on /dev/net/tun in the calling thread's network
// namespace) or adopted from an inherited fd, as wireguard-go does with WG_TUN_FD, so that a
// privileged helper or a test harness can hand one in.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "util/result.hpp"
#include "util/unique_fd.hpp"

namespace ringtun::tun {

// Environment variable naming an inherited TUN fd (decimal), read by adopt_from_env().
inline constexpr const char* kTunFdEnv = "RINGTUN_TUN_FD";

// Longest interface name the kernel accepts (IFNAMSIZ - 1).
inline constexpr std::size_t kMaxNameLen = 15;

// Checks `name` against the kernel's rules for interface names: 1..15 bytes, not "." or
// "..", no '/', ':' or whitespace. '%' is refused too: it would make the kernel pick the
// name from a template, and the configured name must be the interface's name.
util::Result<void> validate_name(std::string_view name);

class TunDevice {
  public:
    // Creates (or attaches to a persistent) TUN interface `name` with IFF_TUN | IFF_NO_PI,
    // and IFF_VNET_HDR when `vnet_hdr`: then every read and write starts with a virtio-net
    // header (tun/virtio_net_hdr.hpp). The fd is close-on-exec and non-blocking unless
    // `blocking`. Needs CAP_NET_ADMIN.
    static util::Result<TunDevice> create(std::string_view name, bool blocking,
                                          bool vnet_hdr = false);

    // Creates a TUN interface the kernel names (the first free tunN), for a probe: it cannot
    // attach to an existing interface, and it is gone when the device is destroyed (not
    // persistent). Non-blocking; needs CAP_NET_ADMIN.
    static util::Result<TunDevice> create_scratch(bool vnet_hdr);

    // Takes an fd already attached to a TUN interface. Checks with TUNGETIFF that it is a TUN
    // (not TAP), learns whether it has the virtio-net header and its name, looks its ifindex up in
    // the current network namespace and sets FD_CLOEXEC. On success the device owns `fd`; on
    // failure `fd` is left open and remains the caller's.
    // Precondition: the fd was attached with IFF_NO_PI. TUNGETIFF cannot show it (the kernel
    // reports IFF_NOFILTER in the same bit), so an fd with packet-information headers would
    // pass and its packets would carry 4 extra leading bytes.
    static util::Result<TunDevice> adopt(int fd);

    // adopt() of the fd named by `variable` (RINGTUN_TUN_FD; WG_TUN_FD under wireguard-go's
    // command line); nullopt if the variable is unset.
    static util::Result<std::optional<TunDevice>> adopt_from_env(const char* variable = kTunFdEnv);

    TunDevice(TunDevice&&) noexcept = default;
    TunDevice& operator=(TunDevice&&) noexcept = default;
    TunDevice(const TunDevice&) = delete;
    TunDevice& operator=(const TunDevice&) = delete;

    int fd() const noexcept { return fd_.get(); }
    const std::string& name() const noexcept { return name_; }
    int ifindex() const noexcept { return ifindex_; }
    // Whether reads and writes carry a virtio-net header (IFF_VNET_HDR).
    bool vnet_hdr() const noexcept { return vnet_hdr_; }

    // TUNSETOFFLOAD: the offloads (tun_f_* of tun/virtio_net_hdr.hpp) the kernel may use for
    // packets it hands us. Fails with EINVAL when the kernel does not know one of them, which
    // is how support is probed (there is no query). Needs the virtio-net header.
    util::Result<void> set_offload(unsigned flags);
    // Sets or clears O_NONBLOCK on the fd (shared with any dup of it).
    util::Result<void> set_blocking(bool blocking);
    // Whether O_NONBLOCK is clear.
    util::Result<bool> is_blocking() const;

  private:
    // TUNSETIFF with `name` (empty: the kernel picks one) on a new /dev/net/tun fd.
    static util::Result<TunDevice> attach(std::string_view name, bool blocking, bool vnet_hdr);

    TunDevice(util::UniqueFd fd, std::string name, int ifindex, bool vnet_hdr) noexcept
        : fd_(std::move(fd)), name_(std::move(name)), ifindex_(ifindex), vnet_hdr_(vnet_hdr) {}

    util::UniqueFd fd_;
    std::string name_;
    int ifindex_ = 0;
    bool vnet_hdr_ = false;
};

}  // namespace ringtun::tun
