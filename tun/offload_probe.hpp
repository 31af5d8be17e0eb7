// What TUNSETOFFLOAD accepts on this kernel, found by asking a scratch TUN (there is no query:
// a kernel that lacks a bit fails the ioctl with EINVAL). For `ringtun probe`; the daemon
// negotiates its own TUN's offloads (daemon/cli/offloads.hpp).
#pragma once

#include "util/result.hpp"

namespace ringtun::tun {

struct TunOffloadSupport {
    bool vnet_hdr = false;  // IFF_VNET_HDR: reads and writes carry a virtio-net header
    bool csum = false;      // TUN_F_CSUM, on which every other bit depends
    bool tso4 = false;      // TUN_F_TSO4: TCP/IPv4 super-packets
    bool tso6 = false;      // TUN_F_TSO6: TCP/IPv6 super-packets
    bool uso = false;       // TUN_F_USO4|TUN_F_USO6 (Linux 6.2): taken only together
};

// Creates a TUN the kernel names (gone on return), with IFF_VNET_HDR, and tries TUN_F_CSUM
// alone, then with each of TSO4, TSO6 and USO4|USO6. Fails when no TUN can be created: EPERM
// without CAP_NET_ADMIN, ENOENT without /dev/net/tun.
util::Result<TunOffloadSupport> probe_tun_offloads();

}  // namespace ringtun::tun
