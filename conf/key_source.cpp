// Private and preshared keys: inline in the config or in a key file, with the permission
// rule that keeps them from being readable by anyone but the owner (and, for a file root
// owns, its group: shared_with_others).
#include "conf/file_read.hpp"
#include "conf/sections.hpp"

namespace ringtun::conf {
namespace {

// A key is 44 base64 characters; anything much longer is not a key file.
constexpr std::size_t max_key_file_bytes = 4096;

std::string resolve_relative(const std::string& config_file, const std::string& path) {
    if (path.starts_with('/')) return path;
    const auto slash = config_file.rfind('/');
    if (slash == std::string::npos) return path;
    return config_file.substr(0, slash + 1) + path;
}

std::string_view trim(std::string_view s) {
    constexpr std::string_view space = " \t\r\n\v\f";
    const auto first = s.find_first_not_of(space);
    if (first == std::string_view::npos) return {};
    return s.substr(first, s.find_last_not_of(space) - first + 1);
}

MaybeError key_from_file(const TableReader& reader, const Item<std::string>& file_key,
                         std::optional<KeyText>& out) {
    if (file_key.value.empty()) return Error{file_key.where, file_key.field, "the path is empty"};
    const std::string path = resolve_relative(reader.context().file, file_key.value);
    auto read = reader.context().options.read_key_file(path, max_key_file_bytes);
    if (const auto* failure = std::get_if<FileFailure>(&read)) {
        return Error{file_key.where, file_key.field, describe(*failure, path, "a key file")};
    }
    const FileText& file = std::get<FileText>(read);
    if (shared_with_others(file.mode, file.owner)) {
        return Error{file_key.where, file_key.field, permission_message(path, file.mode)};
    }
    const std::string_view text = trim(file.text.view());
    if (text.empty()) {
        return Error{file_key.where, file_key.field, path + " is empty (expected a base64 key)"};
    }
    out = KeyText{SecretText(text), file_key.where, file_key.field, path};
    return std::nullopt;
}

}  // namespace

MaybeError read_key(TableReader& reader, std::string_view inline_key, std::string_view file_key,
                    std::optional<KeyText>& out) {
    std::optional<Item<SecretText>> text;
    if (auto e = reader.secret(inline_key, text)) return e;
    std::optional<Item<std::string>> file;
    if (auto e = reader.string(file_key, file)) return e;
    if (text && file) {
        return Error{file->where, file->field,
                     "give either " + std::string(inline_key) + " or " + std::string(file_key) +
                         ", not both"};
    }
    if (file) return key_from_file(reader, *file, out);
    if (!text) return std::nullopt;
    const FileContext& ctx = reader.context();
    if (shared_with_others(ctx.mode, ctx.owner)) {
        return Error{text->where, text->field,
                     permission_message(ctx.file, ctx.mode, "holds a secret key and ")};
    }
    if (text->value.empty()) return Error{text->where, text->field, "the key is empty"};
    out = KeyText{std::move(text->value), text->where, text->field, {}};
    return std::nullopt;
}

}  // namespace ringtun::conf
