// [[peer]]: one table per peer, numbered from 1 in file order as a user counts them.
#include <string_view>
#include <unordered_map>

#include "conf/sections.hpp"
#include "conf/values.hpp"

namespace ringtun::conf {
namespace {

MaybeError read_public_key(const TableReader& r, Peer& out) {
    std::optional<Item<std::string>> key;
    if (auto e = r.string("public_key", key)) return e;
    if (!key) return Error{r.where(), r.field("public_key"), "required"};
    if (key->value.empty()) return Error{key->where, key->field, "the key is empty"};
    out.public_key = PublicKeyText{std::move(key->value), key->where, key->field};
    return std::nullopt;
}

MaybeError read_endpoint(const TableReader& r, Peer& out) {
    std::optional<Item<std::string>> text;
    if (auto e = r.string("endpoint", text)) return e;
    if (!text) return std::nullopt;
    if (!r.context().options.resolve_names && endpoint_names_host(text->value)) {
        out.endpoint_name = text->value;
        return std::nullopt;
    }
    auto parsed = parse_endpoint(text->value);
    if (auto* problem = std::get_if<std::string>(&parsed)) {
        return Error{text->where, text->field, std::move(*problem)};
    }
    out.endpoint = std::get<Endpoint>(parsed);
    return std::nullopt;
}

MaybeError read_allowed_ips(const TableReader& r, Peer& out) {
    std::vector<Item<std::string>> items;
    if (auto e = r.string_list("allowed_ips", items)) return e;
    for (const auto& item : items) {
        auto parsed = parse_prefix(item.value, HostBits::mask);
        if (auto* problem = std::get_if<std::string>(&parsed)) {
            return Error{item.where, item.field, std::move(*problem)};
        }
        out.allowed_ips.push_back(std::get<Prefix>(parsed));
    }
    return std::nullopt;
}

MaybeError read_peer(TableReader& r, Peer& out) {
    if (auto e = r.reject_unknown({"public_key", "preshared_key", "preshared_key_file", "endpoint",
                                   "allowed_ips", "persistent_keepalive", "transport"})) {
        return e;
    }
    out.where = r.where();
    out.name = r.path();
    if (auto e = read_public_key(r, out)) return e;
    if (auto e = read_key(r, "preshared_key", "preshared_key_file", out.preshared_key)) return e;
    if (auto e = read_endpoint(r, out)) return e;
    if (auto e = read_allowed_ips(r, out)) return e;
    std::optional<std::uint16_t> keepalive;
    if (auto e = r.number<std::uint16_t>("persistent_keepalive", 0, 65535, keepalive)) return e;
    out.persistent_keepalive = keepalive.value_or(0);
    std::optional<Item<std::size_t>> transport;
    if (auto e = r.choice("transport", {"udp", "tcp"}, transport)) return e;
    if (transport && transport->value == 1) out.transport = Transport::tcp;
    return std::nullopt;
}

// The same public key in two peers would make the second unreachable; point at the second,
// the last of `peers`. `seen` maps each earlier peer's key text (a view into `peers`, which
// must not reallocate) to its index: one lookup per peer, so 100,000 peers load in linear time.
MaybeError check_unique(const std::vector<Peer>& peers,
                        std::unordered_map<std::string_view, std::size_t>& seen) {
    const Peer& added = peers.back();
    const auto [at, fresh] = seen.try_emplace(added.public_key.base64, peers.size() - 1);
    if (fresh) return std::nullopt;
    const Peer& earlier = peers[at->second];
    return Error{added.public_key.where, added.public_key.field,
                 "the same public key as " + earlier.name + " (line " +
                     std::to_string(earlier.public_key.where.line) + ")"};
}

}  // namespace

MaybeError read_peers(const FileContext& ctx, toml::node* node, std::vector<Peer>& out) {
    if (node == nullptr) return std::nullopt;
    toml::array* array = node->as_array();
    const Location where{ctx.file, node->source().begin.line, node->source().begin.column};
    if (array == nullptr) return Error{where, "peer", "expected [[peer]] tables"};
    out.reserve(out.size() + array->size());  // check_unique keeps views into it
    std::unordered_map<std::string_view, std::size_t> seen;
    seen.reserve(array->size());
    for (std::size_t i = 0; i < array->size(); ++i) {
        toml::table* table = array->get(i)->as_table();
        if (table == nullptr) return Error{where, "peer", "expected [[peer]] tables"};
        TableReader r(ctx, *table, "peer[" + std::to_string(i + 1) + ']');
        Peer peer;
        if (auto e = read_peer(r, peer)) return e;
        out.push_back(std::move(peer));
        if (auto e = check_unique(out, seen)) return e;
    }
    return std::nullopt;
}

}  // namespace ringtun::conf
