// [ring]: the backend and its tunables. Every key is optional; the daemon fills in what is
// absent.
#include <bit>

#include "conf/sections.hpp"

namespace ringtun::conf {
namespace {

MaybeError read_entries(const TableReader& r, RingTunables& out) {
    std::optional<Item<std::int64_t>> entries;
    if (auto e = r.integer("entries", 8, 32768, entries)) return e;
    if (!entries) return std::nullopt;
    const auto n = static_cast<std::uint32_t>(entries->value);
    if (!std::has_single_bit(n)) {
        return Error{entries->where, entries->field,
                     std::to_string(n) + " is not a power of two (8, 16, ..., 32768)"};
    }
    out.entries = n;
    return std::nullopt;
}

MaybeError read_tun(const TableReader& r, RingTunables& out) {
    std::optional<Item<std::size_t>> mode;
    if (auto e = r.choice("tun_read", {"multishot", "slots"}, mode)) return e;
    if (mode) out.tun_read = mode->value == 0 ? TunRead::multishot : TunRead::slots;
    if (auto e = r.number<std::uint32_t>("tun_rx_slots", 1, 4096, out.tun_rx_slots)) return e;
    std::optional<Item<bool>> blocking;
    if (auto e = r.boolean("tun_blocking", blocking)) return e;
    if (blocking) out.tun_blocking = blocking->value;
    return std::nullopt;
}

}  // namespace

MaybeError read_ring(const FileContext& ctx, toml::table* table, RingTunables& out) {
    if (table == nullptr) return std::nullopt;
    const TableReader r(ctx, *table, "ring");
    if (auto e = r.reject_unknown({"backend", "entries", "tun_read", "tun_rx_slots", "udp_rx_slots",
                                   "tx_slots", "tun_blocking", "sqpoll_idle_ms", "tcp_rx_buffers",
                                   "tcp_max_connections"})) {
        return e;
    }
    std::optional<Item<std::size_t>> backend;
    if (auto e = r.choice("backend", {"auto", "io_uring", "epoll"}, backend)) return e;
    if (backend) out.backend = static_cast<Backend>(backend->value);
    if (auto e = read_entries(r, out)) return e;
    if (auto e = read_tun(r, out)) return e;
    if (auto e = r.number<std::uint32_t>("udp_rx_slots", 1, 4096, out.udp_rx_slots)) return e;
    if (auto e = r.number<std::uint32_t>("tx_slots", 1, 32768, out.tx_slots)) return e;
    std::optional<std::uint32_t> idle;
    if (auto e = r.number<std::uint32_t>("sqpoll_idle_ms", 0, 60000, idle)) return e;
    out.sqpoll_idle_ms = idle.value_or(0);
    if (auto e = r.number<std::uint32_t>("tcp_rx_buffers", 1, 1024, out.tcp_rx_buffers)) return e;
    return r.number<std::uint32_t>("tcp_max_connections", 1, 65536, out.tcp_max_connections);
}

}  // namespace ringtun::conf
