// [metrics]: the Prometheus endpoint. `listen = "ADDRESS:PORT"` turns it on; an address, not
// a host name (the daemon binds it at start, and a name could change under it). Absent: no
// endpoint.
#include "conf/sections.hpp"
#include "conf/values.hpp"

namespace ringtun::conf {

MaybeError read_metrics(const FileContext& ctx, toml::table* table, MetricsSettings& out) {
    if (table == nullptr) return std::nullopt;
    const TableReader r(ctx, *table, "metrics");
    if (auto e = r.reject_unknown({"listen"})) return e;
    std::optional<Item<std::string>> listen;
    if (auto e = r.string("listen", listen)) return e;
    if (!listen) return r.table_error("needs listen = \"ADDRESS:PORT\" (e.g. \"127.0.0.1:9586\")");
    if (endpoint_names_host(listen->value))
        return Error{listen->where, listen->field,
                     "expected an address (\"127.0.0.1:9586\", \"[::1]:9586\"), not a host name"};
    auto parsed = parse_endpoint(listen->value);
    if (auto* msg = std::get_if<std::string>(&parsed))
        return Error{listen->where, listen->field, std::move(*msg)};
    out.listen = std::get<Endpoint>(parsed);
    return std::nullopt;
}

}  // namespace ringtun::conf
