// Readers for the tables of the config file: [interface], [ring], [offload], [metrics],
// [[peer]], and the private/preshared key pairs they share. Each returns the first error it
// finds.
#pragma once

#include <toml++/toml.h>
#include <optional>
#include <string_view>
#include <vector>

#include "conf/config.hpp"
#include "conf/table_reader.hpp"

namespace ringtun::conf {

// `table` is null when the config has no [interface].
MaybeError read_interface(const FileContext& ctx, toml::table* table, Interface& out);
// `table` is null when the config has no [ring].
MaybeError read_ring(const FileContext& ctx, toml::table* table, RingTunables& out);
// `table` is null when the config has no [offload].
MaybeError read_offload(const FileContext& ctx, toml::table* table, OffloadSettings& out);
// `table` is null when the config has no [metrics].
MaybeError read_metrics(const FileContext& ctx, toml::table* table, MetricsSettings& out);
// `node` is the top-level "peer" value (an array of tables), or null when there are no peers.
MaybeError read_peers(const FileContext& ctx, toml::node* node, std::vector<Peer>& out);

// Reads a key written inline as `inline_key` or kept in the file named by `file_key` (at most
// one of the two). A key file, and a config file with an inline key, must not grant group or
// others any access. Relative key file paths are taken from the config file's directory.
// `out` stays empty when neither key is given.
MaybeError read_key(TableReader& reader, std::string_view inline_key, std::string_view file_key,
                    std::optional<KeyText>& out);

}  // namespace ringtun::conf
