// [interface]: the TUN device, its private key, listening ports, addresses, MTU, whether the
// UAPI socket is served, the routing table for the peers' allowed IPs, and the user the
// daemon runs as.
#include <algorithm>

#include "conf/sections.hpp"
#include "conf/values.hpp"

namespace ringtun::conf {
namespace {

// RFC 8200 §5: every IPv6 link must carry 1280-byte packets.
constexpr std::int64_t ipv6_min_mtu = 1280;

MaybeError read_name(const TableReader& r, Interface& out) {
    std::optional<Item<std::string>> name;
    if (auto e = r.string("name", name)) return e;
    if (!name) return std::nullopt;
    if (auto problem = check_interface_name(name->value); !problem.empty()) {
        return Error{name->where, name->field, std::move(problem)};
    }
    out.name = std::move(name->value);
    return std::nullopt;
}

MaybeError read_ports(const TableReader& r, Interface& out) {
    if (auto e = r.number<std::uint16_t>("listen_port", 1, 65535, out.listen_port)) return e;
    return r.number<std::uint16_t>("listen_tcp_port", 1, 65535, out.listen_tcp_port);
}

MaybeError read_addresses(const TableReader& r, Interface& out) {
    std::vector<Item<std::string>> items;
    if (auto e = r.string_list("address", items)) return e;
    for (const auto& item : items) {
        auto parsed = parse_prefix(item.value, HostBits::keep);
        if (auto* problem = std::get_if<std::string>(&parsed)) {
            return Error{item.where, item.field, std::move(*problem)};
        }
        out.addresses.push_back(std::get<Prefix>(parsed));
    }
    return std::nullopt;
}

// table = "auto" | "off" | 1..4294967295 (as wg-quick's Table=).
MaybeError read_table(const TableReader& r, Interface& out) {
    const toml::node* node = r.find("table");
    if (node == nullptr) return std::nullopt;
    if (const auto* s = node->as_string()) {
        if (s->get() == "auto") return std::nullopt;
        if (s->get() == "off") {
            out.table = 0;
            return std::nullopt;
        }
    } else if (const auto* i = node->as_integer(); i && i->get() >= 1 && i->get() <= 0xffffffffLL) {
        out.table = static_cast<std::uint32_t>(i->get());
        return std::nullopt;
    }
    return Error{r.at(node->source()), r.field("table"),
                 "expected \"auto\", \"off\" or a routing table number 1..4294967295"};
}

// user = "NAME": a name the user database will be asked for (cli), never a number.
MaybeError read_user(const TableReader& r, Interface& out) {
    std::optional<Item<std::string>> user;
    if (auto e = r.string("user", user)) return e;
    if (!user) return std::nullopt;
    const std::string& n = user->value;
    if (n.empty() || n.find_first_not_of("0123456789") == std::string::npos ||
        n.find_first_of(" \t\n:/") != std::string::npos)
        return Error{user->where, user->field, "expected a user name, e.g. \"ringtun\""};
    out.user = UserName{n, user->where, user->field};
    return std::nullopt;
}

MaybeError read_mtu(const TableReader& r, Interface& out) {
    std::optional<Item<std::int64_t>> mtu;
    if (auto e = r.integer("mtu", min_mtu, max_mtu, mtu)) return e;
    if (!mtu) return std::nullopt;
    out.mtu = static_cast<std::uint32_t>(mtu->value);
    const auto v6 = std::find_if(out.addresses.begin(), out.addresses.end(),
                                 [](const Prefix& p) { return p.family == AF_INET6; });
    if (mtu->value < ipv6_min_mtu && v6 != out.addresses.end()) {
        return Error{mtu->where, mtu->field,
                     std::to_string(mtu->value) + " is below 1280, the minimum for IPv6 (" +
                         r.field("address") + '[' + std::to_string(v6 - out.addresses.begin()) +
                         "] is IPv6)"};
    }
    return std::nullopt;
}

}  // namespace

MaybeError read_interface(const FileContext& ctx, toml::table* table, Interface& out) {
    static constexpr std::string_view key_required =
        "one of private_key or private_key_file is required";
    if (table == nullptr) return Error{Location{ctx.file}, "interface", std::string(key_required)};
    TableReader r(ctx, *table, "interface");
    if (auto e = r.reject_unknown({"name", "private_key", "private_key_file", "listen_port",
                                   "listen_tcp_port", "address", "mtu", "control_socket", "table",
                                   "user"})) {
        return e;
    }
    if (auto e = read_name(r, out)) return e;
    std::optional<KeyText> key;
    if (auto e = read_key(r, "private_key", "private_key_file", key)) return e;
    if (!key) return r.table_error(std::string(key_required));
    out.private_key = std::move(*key);
    if (auto e = read_ports(r, out)) return e;
    if (auto e = read_addresses(r, out)) return e;
    std::optional<Item<bool>> control;
    if (auto e = r.boolean("control_socket", control)) return e;
    if (control) out.control_socket = control->value;
    if (auto e = read_table(r, out)) return e;
    if (auto e = read_user(r, out)) return e;
    return read_mtu(r, out);
}

}  // namespace ringtun::conf
