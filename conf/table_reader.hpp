// TableReader: typed, located access to one TOML table of the config. Every getter reports
// problems as an Error naming the dotted field and the line/column toml++ recorded, and
// leaves its output untouched when the key is absent.
#pragma once

#include <sys/types.h>

#include <toml++/toml.h>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "conf/error.hpp"
#include "conf/load.hpp"
#include "conf/secret_text.hpp"

namespace ringtun::conf {

using MaybeError = std::optional<Error>;

// What every table reader needs to know about the config file.
struct FileContext {
    std::string file;  // the config path as given to load() (or load_text's name)
    mode_t mode = 0;   // its st_mode (FileText::mode)
    uid_t owner = 0;   // its st_uid (FileText::owner)
    LoadOptions options;
};

// A value read from the config, with where it was written.
template <typename T>
struct Item {
    T value;
    Location where;
    std::string field;
};

class TableReader {
  public:
    // `path` is the dotted name of the table ("interface", "peer[2]"). `table` may be
    // modified: secret() wipes the strings it takes.
    TableReader(const FileContext& ctx, toml::table& table, std::string path)
        : ctx_(ctx), table_(table), path_(std::move(path)) {}

    const FileContext& context() const { return ctx_; }
    const std::string& path() const { return path_; }
    Location where() const { return at(table_.source()); }
    Location at(const toml::source_region& region) const;
    std::string field(std::string_view key) const;
    const toml::node* find(std::string_view key) const { return table_.get(key); }

    // An error about the whole table, located at its header.
    Error table_error(std::string message) const;

    // Fails on the first key not in `known` ("unknown key", or "unknown table").
    MaybeError reject_unknown(std::initializer_list<std::string_view> known) const;

    MaybeError integer(std::string_view key, std::int64_t lo, std::int64_t hi,
                       std::optional<Item<std::int64_t>>& out) const;
    MaybeError boolean(std::string_view key, std::optional<Item<bool>>& out) const;
    MaybeError string(std::string_view key, std::optional<Item<std::string>>& out) const;
    // An array of strings; each item's field is "KEY[i]".
    MaybeError string_list(std::string_view key, std::vector<Item<std::string>>& out) const;
    // A string copied into a SecretText; the parsed copy in the table is wiped.
    MaybeError secret(std::string_view key, std::optional<Item<SecretText>>& out);
    // One of the strings in `names`; anything else fails with 'expected "a" or "b"'.
    MaybeError choice(std::string_view key, std::initializer_list<std::string_view> names,
                      std::optional<Item<std::size_t>>& out) const;

    // integer() narrowed to T, for bounds that fit T.
    template <typename T>
    MaybeError number(std::string_view key, T lo, T hi, std::optional<T>& out) const {
        std::optional<Item<std::int64_t>> item;
        if (auto e = integer(key, lo, hi, item)) return e;
        if (item) out = static_cast<T>(item->value);
        return std::nullopt;
    }

  private:
    Error error_at(const toml::node& node, std::string field, std::string message) const;

    const FileContext& ctx_;
    toml::table& table_;
    std::string path_;
};

}  // namespace ringtun::conf
