// The top level of the config file: reading it, parsing it with toml++ (whose parse_error is
// caught here, the only exception boundary of conf), and dispatching to the table readers.
#include "conf/load.hpp"

#include "conf/file_read.hpp"
#include "conf/sections.hpp"

namespace ringtun::conf {
namespace {

// 100,000 peers, each with a key, an endpoint, an allowed IP and a keepalive, take about
// 16 MiB, with preshared keys 23 MiB; the limit leaves room for comments and more allowed IPs,
// and still keeps a wrong path (e.g. a disk image) from being slurped.
constexpr std::size_t max_config_bytes = std::size_t{64} << 20;

// The top-level value `name` as a table; null when absent.
MaybeError top_table(const FileContext& ctx, toml::table& root, std::string_view name,
                     toml::table*& out) {
    toml::node* node = root.get(name);
    out = node == nullptr ? nullptr : node->as_table();
    if (node == nullptr || out != nullptr) return std::nullopt;
    const auto& begin = node->source().begin;
    return Error{Location{ctx.file, begin.line, begin.column}, std::string(name),
                 "expected a table ([" + std::string(name) + "])"};
}

LoadResult read_config(const FileContext& ctx, toml::table& root) {
    const TableReader top(ctx, root, "");
    if (auto e = top.reject_unknown({"interface", "ring", "offload", "metrics", "peer"}))
        return std::move(*e);
    Config config;
    toml::table* table = nullptr;
    if (auto e = top_table(ctx, root, "interface", table)) return std::move(*e);
    if (auto e = read_interface(ctx, table, config.interface)) return std::move(*e);
    if (auto e = top_table(ctx, root, "ring", table)) return std::move(*e);
    if (auto e = read_ring(ctx, table, config.ring)) return std::move(*e);
    if (auto e = top_table(ctx, root, "offload", table)) return std::move(*e);
    if (auto e = read_offload(ctx, table, config.offload)) return std::move(*e);
    if (auto e = top_table(ctx, root, "metrics", table)) return std::move(*e);
    if (auto e = read_metrics(ctx, table, config.metrics)) return std::move(*e);
    if (auto e = read_peers(ctx, root.get("peer"), config.peers)) return std::move(*e);
    return config;
}

// The line of a wg-quick `[Interface]` header (INI: ringtun's TOML spells it `[interface]`),
// or 0 if there is none.
std::size_t wg_quick_header(std::string_view text) {
    std::size_t line = 1;
    for (std::size_t at = 0; at < text.size(); ++line) {
        std::size_t end = text.find('\n', at);
        if (end == std::string_view::npos) end = text.size();
        std::string_view l = text.substr(at, end - at);
        while (!l.empty() && (l.front() == ' ' || l.front() == '\t'))
            l.remove_prefix(1);
        while (!l.empty() && (l.back() == ' ' || l.back() == '\t' || l.back() == '\r'))
            l.remove_suffix(1);
        if (l == "[Interface]") return line;
        at = end + 1;
    }
    return 0;
}

}  // namespace

LoadResult load(const std::string& path, LoadOptions options) {
    auto read = read_whole_file(path, max_config_bytes);
    if (const auto* failure = std::get_if<FileFailure>(&read)) {
        return Error{Location{path}, {}, describe(*failure, {}, "a configuration file")};
    }
    return load_text(std::move(std::get<FileText>(read)), path, std::move(options));
}

LoadResult load_text(FileText file, const std::string& name, LoadOptions options) {
    SecretText& text = file.text;
    if (const std::size_t line = wg_quick_header(text.view()); line != 0)
        return Error{Location{name, static_cast<unsigned>(line), 1},
                     {},
                     "this is a wg-quick configuration (INI), not ringtun's TOML; run it with "
                     "`WG_QUICK_USERSPACE_IMPLEMENTATION=ringtun wg-quick up " +
                         name + "`, or write its TOML equivalent (README: Configuration)"};
    toml::table root;
    try {
        root = toml::parse(text.view(), std::string_view(name));
    } catch (const toml::parse_error& e) {
        const auto& begin = e.source().begin;
        return Error{Location{name, begin.line, begin.column}, {}, std::string(e.description())};
    }
    text = SecretText();  // wipe the raw text now; the parsed table has what we need
    return read_config(FileContext{name, file.mode, file.owner, std::move(options)}, root);
}

}  // namespace ringtun::conf
