// JsonWriter: one JSON document (RFC 8259) built into a string, for the command line's
// machine-readable output (`ringtun probe --json`). Members come out in the order written,
// indented by two spaces, so that output is stable and diffs well. Strings are escaped by
// json_quote(); bytes that are not UTF-8 become U+FFFD, so the document is always valid
// whatever text (a uname release, an error message) went in.
#pragma once

#include <concepts>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ringtun::daemon {

// `text` as a JSON string, quotes included: '"', '\\' and the control characters escaped
// (\n, \t, ... or \u00XX), valid UTF-8 kept as it is, each invalid byte replaced by U+FFFD.
std::string json_quote(std::string_view text);

// Preconditions (the caller's bugs otherwise, checked by assert): inside an object every value
// follows a key(); begin_* and end_* pair up; one top-level value.
class JsonWriter {
  public:
    void begin_object() { open('{'); }
    void end_object() { close('}'); }
    void begin_array() { open('['); }
    void end_array() { close(']'); }
    void key(std::string_view name);

    void value(std::string_view s) { scalar(json_quote(s)); }
    void value(const char* s) { value(std::string_view(s)); }
    void value(bool b) { scalar(b ? "true" : "false"); }
    template <std::integral T>
    requires(!std::same_as<T, bool>) void value(T n) { scalar(std::to_string(n)); }
    template <class T>
    void value(const std::optional<T>& v) {
        if (v)
            value(*v);
        else
            null();
    }
    void null() { scalar("null"); }

    // key(name) then value(v).
    template <class T>
    void field(std::string_view name, const T& v) {
        key(name);
        value(v);
    }

    // The document so far; complete once every container is closed.
    const std::string& str() const noexcept { return out_; }

  private:
    struct Level {
        bool object;
        std::size_t members = 0;
    };
    void before_value();
    void scalar(std::string_view text);
    void open(char bracket);
    void close(char bracket);
    void newline(std::size_t depth);

    std::string out_;
    std::vector<Level> levels_;
    bool after_key_ = false;
};

}  // namespace ringtun::daemon
