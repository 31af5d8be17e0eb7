#include "daemon/engine/statistics.hpp"

#include <string>

#include "util/log.hpp"

namespace ringtun::daemon {

void log_device_statistics(const Device& device) {
    const DeviceCounters& c = device.counters();
    RT_LOG_NOTICE(
        "stats: tun rx %llu pkts %llu B, to tun %llu pkts %llu B; handshakes "
        "initiated %llu completed %llu; cookie replies %llu; keepalives %llu; timer holds %llu",
        (unsigned long long)c.tun_rx_packets, (unsigned long long)c.tun_rx_bytes,
        (unsigned long long)c.tun_tx_packets, (unsigned long long)c.tun_tx_bytes,
        (unsigned long long)c.handshakes_initiated, (unsigned long long)c.handshakes_completed,
        (unsigned long long)c.cookie_replies_sent, (unsigned long long)c.keepalives_sent,
        (unsigned long long)c.timer_holds);
    std::string drops;
    for (std::size_t i = 0; i < static_cast<std::size_t>(Drop::count_); ++i) {
        const auto d = static_cast<Drop>(i);
        if (c.drops.get(d) == 0) continue;
        drops += std::string(" ") + to_string(d) + "=" + std::to_string(c.drops.get(d));
    }
    RT_LOG_NOTICE("stats: drops %llu:%s", (unsigned long long)c.drops.total(),
                  drops.empty() ? " none" : drops.c_str());
    for (const auto& p : device.peers()) {
        RT_LOG_NOTICE("stats: %s endpoint %s rx %llu B tx %llu B session %s staged %zu",
                      p->label().c_str(), p->endpoint ? p->endpoint->to_string().c_str() : "(none)",
                      (unsigned long long)p->rx_bytes, (unsigned long long)p->tx_bytes,
                      p->current ? "yes" : "no", p->staged.size());
    }
}

}  // namespace ringtun::daemon
