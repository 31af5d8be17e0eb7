// [offload] against what the kernel offers: "auto" takes an offload where the probe succeeds,
// "on" refuses to start without it, "off" leaves it alone. Support is probed by asking for it
// (TUNSETOFFLOAD and UDP_GRO fail with EINVAL on kernels that lack them; there is no query).
#pragma once

#include "conf/config.hpp"
#include "daemon/backend/udp_socket.hpp"
#include "daemon/datapath/offloads.hpp"
#include "ring/features.hpp"
#include "tun/tun_device.hpp"
#include "util/result.hpp"

namespace ringtun::daemon {

// Whether to open the TUN with a virtio-net header: some TUN offload is not "off".
bool wants_vnet_hdr(const conf::OffloadSettings& s) noexcept;

// What `check` can tell without a TUN: an offload set "on" that this kernel cannot do.
util::Result<void> check_offloads(const conf::OffloadSettings& s, const ring::KernelVersion& k);

// Sets the TUN's offloads and the UDP socket's GRO as `s` asks; the result says what is on.
util::Result<Offloads> negotiate_offloads(const conf::OffloadSettings& s, tun::TunDevice& tun,
                                          const UdpSocket& udp);

}  // namespace ringtun::daemon
