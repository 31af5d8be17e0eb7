// [offload]: which of the data path's offloads to use. Every key is optional and "auto" by
// default; the daemon probes the TUN and the UDP socket for what "auto" and "on" need.
// tun_gro_checksums ("verify" by default, or "trust") is the TUN GRO's checksum policy.
#include "conf/sections.hpp"

namespace ringtun::conf {
namespace {

MaybeError read_one(const TableReader& r, std::string_view key, Offload& out) {
    std::optional<Item<std::size_t>> choice;
    if (auto e = r.choice(key, {"auto", "on", "off"}, choice)) return e;
    if (choice) out = static_cast<Offload>(choice->value);
    return std::nullopt;
}

}  // namespace

std::string_view to_string(Offload o) noexcept {
    switch (o) {
        case Offload::automatic:
            return "auto";
        case Offload::on:
            return "on";
        case Offload::off:
            return "off";
    }
    return "?";
}

MaybeError read_offload(const FileContext& ctx, toml::table* table, OffloadSettings& out) {
    if (table == nullptr) return std::nullopt;
    const TableReader r(ctx, *table, "offload");
    if (auto e = r.reject_unknown(
            {"tun_tso", "tun_uso", "tun_gro", "tun_gro_checksums", "udp_gso", "udp_gro"}))
        return e;
    std::optional<Item<std::size_t>> checksums;
    if (auto e = r.choice("tun_gro_checksums", {"trust", "verify"}, checksums)) return e;
    if (checksums) out.tun_gro_verify = checksums->value == 1;
    if (auto e = read_one(r, "tun_tso", out.tun_tso)) return e;
    if (auto e = read_one(r, "tun_uso", out.tun_uso)) return e;
    if (auto e = read_one(r, "tun_gro", out.tun_gro)) return e;
    if (checksums && out.tun_gro == Offload::off)
        return Error{checksums->where, checksums->field,
                     "has no effect with tun_gro = \"off\"; remove one of them"};
    if (auto e = read_one(r, "udp_gso", out.udp_gso)) return e;
    return read_one(r, "udp_gro", out.udp_gro);
}

}  // namespace ringtun::conf
