// TUNSETOFFLOAD support, asked of a scratch TUN; see offload_probe.hpp.
#include "tun/offload_probe.hpp"

#include "tun/tun_device.hpp"
#include "tun/virtio_net_hdr.hpp"

namespace ringtun::tun {

util::Result<TunOffloadSupport> probe_tun_offloads() {
    TunOffloadSupport out;
    auto tun = TunDevice::create_scratch(true);
    if (!tun) {
        // A kernel without IFF_VNET_HDR refuses the flag; without the header there are no
        // offloads to ask for.
        if (tun.error().sys_errno != EINVAL) return util::fail(tun.error());
        if (auto plain = TunDevice::create_scratch(false); !plain) return util::fail(plain.error());
        return out;
    }
    out.vnet_hdr = true;
    // Each set is asked for on its own: a refused one leaves the previous flags in place,
    // which the next attempt replaces.
    auto accepts = [&](unsigned flags) { return tun->set_offload(flags).has_value(); };
    out.csum = accepts(tun_f_csum);
    out.tso4 = accepts(tun_f_csum | tun_f_tso4);
    out.tso6 = accepts(tun_f_csum | tun_f_tso6);
    out.uso = accepts(tun_f_csum | tun_f_uso4 | tun_f_uso6);
    return out;
}

}  // namespace ringtun::tun
