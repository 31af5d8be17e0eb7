// Typed TOML table access with located errors.
#include "conf/table_reader.hpp"

#include <string.h>

#include <algorithm>

namespace ringtun::conf {

Location TableReader::at(const toml::source_region& region) const {
    return Location{ctx_.file, region.begin.line, region.begin.column};
}

std::string TableReader::field(std::string_view key) const {
    if (path_.empty()) return std::string(key);
    return path_ + '.' + std::string(key);
}

Error TableReader::table_error(std::string message) const {
    return Error{where(), path_, std::move(message)};
}

Error TableReader::error_at(const toml::node& node, std::string name, std::string message) const {
    return Error{at(node.source()), std::move(name), std::move(message)};
}

MaybeError TableReader::reject_unknown(std::initializer_list<std::string_view> known) const {
    for (const auto& [key, node] : table_) {
        if (std::find(known.begin(), known.end(), key.str()) != known.end()) continue;
        return Error{at(key.source()), field(key.str()),
                     node.is_table() ? "unknown table" : "unknown key"};
    }
    return std::nullopt;
}

MaybeError TableReader::integer(std::string_view key, std::int64_t lo, std::int64_t hi,
                                std::optional<Item<std::int64_t>>& out) const {
    const toml::node* node = find(key);
    if (node == nullptr) return std::nullopt;
    const auto* v = node->as_integer();
    if (v == nullptr) return error_at(*node, field(key), "expected an integer");
    const std::int64_t n = v->get();
    if (n < lo || n > hi) {
        return error_at(*node, field(key),
                        std::to_string(n) + " is out of range (" + std::to_string(lo) + ".." +
                            std::to_string(hi) + ")");
    }
    out = Item<std::int64_t>{n, at(node->source()), field(key)};
    return std::nullopt;
}

MaybeError TableReader::boolean(std::string_view key, std::optional<Item<bool>>& out) const {
    const toml::node* node = find(key);
    if (node == nullptr) return std::nullopt;
    const auto* v = node->as_boolean();
    if (v == nullptr) return error_at(*node, field(key), "expected a boolean");
    out = Item<bool>{v->get(), at(node->source()), field(key)};
    return std::nullopt;
}

MaybeError TableReader::string(std::string_view key, std::optional<Item<std::string>>& out) const {
    const toml::node* node = find(key);
    if (node == nullptr) return std::nullopt;
    const auto* v = node->as_string();
    if (v == nullptr) return error_at(*node, field(key), "expected a string");
    out = Item<std::string>{v->get(), at(node->source()), field(key)};
    return std::nullopt;
}

MaybeError TableReader::string_list(std::string_view key,
                                    std::vector<Item<std::string>>& out) const {
    const toml::node* node = find(key);
    if (node == nullptr) return std::nullopt;
    const auto* array = node->as_array();
    if (array == nullptr) return error_at(*node, field(key), "expected an array of strings");
    for (std::size_t i = 0; i < array->size(); ++i) {
        const toml::node& element = *array->get(i);
        std::string name = field(key) + '[' + std::to_string(i) + ']';
        const auto* v = element.as_string();
        if (v == nullptr) return error_at(element, std::move(name), "expected a string");
        out.push_back(Item<std::string>{v->get(), at(element.source()), std::move(name)});
    }
    return std::nullopt;
}

MaybeError TableReader::secret(std::string_view key, std::optional<Item<SecretText>>& out) {
    toml::node* node = table_.get(key);
    if (node == nullptr) return std::nullopt;
    auto* v = node->as_string();
    if (v == nullptr) return error_at(*node, field(key), "expected a string");
    std::string& text = v->get();
    out = Item<SecretText>{SecretText(text), at(node->source()), field(key)};
    explicit_bzero(text.data(), text.size());
    return std::nullopt;
}

MaybeError TableReader::choice(std::string_view key, std::initializer_list<std::string_view> names,
                               std::optional<Item<std::size_t>>& out) const {
    const toml::node* node = find(key);
    if (node == nullptr) return std::nullopt;
    const auto* v = node->as_string();
    for (std::size_t i = 0; v != nullptr && i < names.size(); ++i) {
        if (v->get() == names.begin()[i]) {
            out = Item<std::size_t>{i, at(node->source()), field(key)};
            return std::nullopt;
        }
    }
    std::string expected = "expected";
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i != 0) expected += i + 1 == names.size() ? " or" : ",";
        expected += " \"" + std::string(names.begin()[i]) + '"';
    }
    return error_at(*node, field(key), std::move(expected));
}

}  // namespace ringtun::conf
