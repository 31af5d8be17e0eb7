#include "daemon/cli/offloads.hpp"

#include "tun/virtio_net_hdr.hpp"

namespace ringtun::daemon {

namespace {

using conf::Offload;

constexpr unsigned tso_flags = tun::tun_f_csum | tun::tun_f_tso4 | tun::tun_f_tso6;
constexpr unsigned uso_flags = tun::tun_f_csum | tun::tun_f_uso4 | tun::tun_f_uso6;

util::Error required(const char* key, const std::string& why) {
    return util::make_error(std::string("[offload] ") + key,
                            "\"on\", but " + why + "; set it to \"auto\" or \"off\"");
}

// Asks the TUN for `flags` on top of `have`; true if the kernel took them.
bool try_offload(tun::TunDevice& tun, unsigned have, unsigned flags) {
    return tun.set_offload(have | flags).has_value();
}

util::Result<void> negotiate_tun(const conf::OffloadSettings& s, tun::TunDevice& tun,
                                 Offloads& out) {
    out.vnet_hdr = tun.vnet_hdr();
    if (!out.vnet_hdr) {
        // An adopted TUN without the header (or every TUN offload off): packets one by one.
        for (auto [key, value] : {std::pair{"tun_tso", s.tun_tso}, std::pair{"tun_uso", s.tun_uso},
                                  std::pair{"tun_gro", s.tun_gro}})
            if (value == Offload::on)
                return util::fail(required(key, "the TUN has no virtio-net header"));
        return {};
    }
    unsigned flags = 0;
    if (s.tun_tso != Offload::off && try_offload(tun, flags, tso_flags)) {
        flags |= tso_flags;
        out.tun_tso = true;
    }
    if (s.tun_tso == Offload::on && !out.tun_tso)
        return util::fail(required("tun_tso", "the TUN refused TSO (TUNSETOFFLOAD)"));
    if (s.tun_uso != Offload::off && try_offload(tun, flags, uso_flags)) {
        flags |= uso_flags;
        out.tun_uso = true;
    }
    if (s.tun_uso == Offload::on && !out.tun_uso)
        return util::fail(required("tun_uso", "the TUN refused USO (Linux 6.2+)"));
    // A failed attempt leaves the previous flags; say exactly what is on.
    if (auto r = tun.set_offload(flags); !r) return util::fail(r.error());
    out.tun_gro = s.tun_gro != Offload::off;
    out.gro_verify = s.tun_gro_verify;
    return {};
}

}  // namespace

bool wants_vnet_hdr(const conf::OffloadSettings& s) noexcept {
    return s.tun_tso != Offload::off || s.tun_uso != Offload::off || s.tun_gro != Offload::off;
}

util::Result<void> check_offloads(const conf::OffloadSettings& s, const ring::KernelVersion& k) {
    if (s.tun_uso == Offload::on && k < ring::KernelVersion{6, 2, 0})
        return util::fail(required("tun_uso", "TUN USO needs Linux 6.2"));
    if (s.udp_gro == Offload::on && k < ring::KernelVersion{5, 12, 0})
        return util::fail(required("udp_gro", "UDP GRO needs Linux 5.12"));
    if (s.udp_gso == Offload::on && k < ring::KernelVersion{4, 18, 0})
        return util::fail(required("udp_gso", "UDP GSO needs Linux 4.18"));
    return {};
}

util::Result<Offloads> negotiate_offloads(const conf::OffloadSettings& s, tun::TunDevice& tun,
                                          const UdpSocket& udp) {
    Offloads out;
    if (auto r = negotiate_tun(s, tun, out); !r) return util::fail(r.error());
    if (s.udp_gso != Offload::off) out.udp_gso = udp.gso_available();
    if (s.udp_gso == Offload::on && !out.udp_gso)
        return util::fail(required("udp_gso", "this kernel has no UDP_SEGMENT"));
    if (s.udp_gro != Offload::off) {
        auto r = udp.enable_gro();
        out.udp_gro = r.has_value();
        if (!r && s.udp_gro == Offload::on)
            return util::fail(required("udp_gro", r.error().to_string()));
    }
    return out;
}

}  // namespace ringtun::daemon
