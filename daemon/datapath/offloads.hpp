// Offloads: what the data path does with super-packets, as agreed with the kernel at start
// (cli/offloads.cpp). Off everywhere, the data path moves one packet per read, write and
// datagram; each offload that is on moves up to 64 KiB at once instead.
#pragma once

#include <string>
#include <string_view>

namespace ringtun::daemon {

struct Offloads {
    bool vnet_hdr = false;  // TUN reads and writes carry a virtio-net header
    bool tun_tso = false;   // the TUN hands us TCP super-packets (we split them)
    bool tun_uso = false;   // ... and UDP ones; also: the TUN takes UDP super-packets
    bool tun_gro = false;   // opened packets are coalesced per flow before the TUN write
    bool udp_gso = false;   // messages to one peer leave in one UDP_SEGMENT send
    bool udp_gro = false;   // datagrams may arrive coalesced (UDP_GRO)
    // TUN GRO checks each opened packet's checksums before merging it (wireguard-go) instead
    // of trusting the AEAD that authenticated it (kernel WireGuard); see tun/gro.hpp.
    bool gro_verify = true;

    // "TUN TSO, TUN USO, TUN GRO (TCP, UDP), UDP GSO, UDP GRO" for what is on, or "none".
    std::string describe() const {
        std::string s;
        auto add = [&s](bool on, std::string_view what) {
            if (!on) return;
            if (!s.empty()) s += ", ";
            s += what;
        };
        add(tun_tso, "TUN TSO");
        add(tun_uso, "TUN USO");
        add(tun_gro, std::string(tun_uso ? "TUN GRO (TCP, UDP" : "TUN GRO (TCP") +
                         (gro_verify ? ")" : "; checksums trusted)"));
        add(udp_gso, "UDP GSO");
        add(udp_gro, "UDP GRO");
        return s.empty() ? "none" : s;
    }
};

}  // namespace ringtun::daemon
