// The CLI's JSON: escaping (every control character, quotes, backslashes, UTF-8 kept, invalid
// bytes replaced) and the writer's layout.
#include "daemon/cli/json_writer.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <string>

using ringtun::daemon::json_quote;
using ringtun::daemon::JsonWriter;

TEST_CASE("json_quote escapes what RFC 8259 requires") {
    CHECK(json_quote("") == R"("")");
    CHECK(json_quote("plain 6.18.44-fc") == R"("plain 6.18.44-fc")");
    CHECK(json_quote(R"(a "b" \c)") == R"("a \"b\" \\c")");
    CHECK(json_quote("\n\t\r\b\f") == R"("\n\t\r\b\f")");
    CHECK(json_quote(std::string("\0\x01\x1f", 3)) == R"("\u0000\u0001\u001f")");
    CHECK(json_quote("\x7f/") == "\"\x7f/\"");  // DEL and '/' need no escape
}

TEST_CASE("json_quote keeps UTF-8 and replaces what is not") {
    CHECK(json_quote("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80") ==
          "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"");
    const std::string fffd = "\xEF\xBF\xBD";
    CHECK(json_quote("\xFF") == "\"" + fffd + "\"");
    CHECK(json_quote("a\xC3") == "\"a" + fffd + "\"");                      // truncated
    CHECK(json_quote("\xC0\xAF") == "\"" + fffd + fffd + "\"");             // overlong '/'
    CHECK(json_quote("\xED\xA0\x80") == "\"" + fffd + fffd + fffd + "\"");  // a surrogate
    CHECK(json_quote("\xF4\x90\x80\x80") == "\"" + fffd + fffd + fffd + fffd + "\"");  // > U+10FFFF
    CHECK(json_quote("\xE2\x82x") == "\"" + fffd + fffd + "x\"");  // a sequence cut short
}

TEST_CASE("JsonWriter lays out nested objects and arrays") {
    JsonWriter w;
    w.begin_object();
    w.field("name", "ringtun");
    w.field("n", 42);
    w.field("big", 18446744073709551615ULL);
    w.field("neg", -1L);
    w.field("ok", true);
    w.field("none", std::optional<int>{});
    w.field("some", std::optional<int>{7});
    w.key("list");
    w.begin_array();
    w.value("a");
    w.value(false);
    w.end_array();
    w.key("empty");
    w.begin_object();
    w.end_object();
    w.key("empty_list");
    w.begin_array();
    w.end_array();
    w.end_object();
    CHECK(w.str() ==
          "{\n"
          "  \"name\": \"ringtun\",\n"
          "  \"n\": 42,\n"
          "  \"big\": 18446744073709551615,\n"
          "  \"neg\": -1,\n"
          "  \"ok\": true,\n"
          "  \"none\": null,\n"
          "  \"some\": 7,\n"
          "  \"list\": [\n"
          "    \"a\",\n"
          "    false\n"
          "  ],\n"
          "  \"empty\": {},\n"
          "  \"empty_list\": []\n"
          "}");
}

TEST_CASE("keys are escaped too") {
    JsonWriter w;
    w.begin_object();
    w.field("a\"b", 1);
    w.end_object();
    CHECK(w.str() == "{\n  \"a\\\"b\": 1\n}");
}
