// JSON text and its escaping; see json_writer.hpp.
#include "daemon/cli/json_writer.hpp"

#include <cassert>

namespace ringtun::daemon {

namespace {

bool continuation(unsigned char c) {
    return (c & 0xC0) == 0x80;
}

// The length of the well-formed UTF-8 sequence at the start of `s` (RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF), or 0 if there is none.
std::size_t utf8_length(std::string_view s) {
    const auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
    const unsigned char c = b(0);
    if (c < 0x80) return 1;
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // the range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0) lo = 0xA0;  // overlong
        if (c == 0xED) hi = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0) lo = 0x90;  // overlong
        if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
        return 0;
    }
    if (s.size() < len || b(1) < lo || b(1) > hi) return 0;
    for (std::size_t i = 2; i < len; ++i)
        if (!continuation(b(i))) return 0;
    return len;
}

void escape_control(char c, std::string& out) {
    switch (c) {
        case '\b':
            out += "\\b";
            return;
        case '\f':
            out += "\\f";
            return;
        case '\n':
            out += "\\n";
            return;
        case '\r':
            out += "\\r";
            return;
        case '\t':
            out += "\\t";
            return;
        default:
            break;
    }
    static constexpr char hex[] = "0123456789abcdef";
    const auto u = static_cast<unsigned char>(c);
    out += "\\u00";
    out += hex[u >> 4];
    out += hex[u & 0xF];
}

}  // namespace

std::string json_quote(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 2);
    out += '"';
    while (!text.empty()) {
        const char c = text.front();
        const std::size_t len = utf8_length(text);
        if (len == 0) {
            out += "\xEF\xBF\xBD";  // U+FFFD in UTF-8
            text.remove_prefix(1);
            continue;
        }
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            escape_control(c, out);
        } else {
            out.append(text.substr(0, len));
        }
        text.remove_prefix(len);
    }
    out += '"';
    return out;
}

void JsonWriter::newline(std::size_t depth) {
    out_ += '\n';
    out_.append(2 * depth, ' ');
}

void JsonWriter::before_value() {
    if (after_key_) {
        after_key_ = false;
        return;
    }
    assert(levels_.empty() ? out_.empty() : !levels_.back().object);
    if (levels_.empty()) return;
    if (levels_.back().members++ > 0) out_ += ',';
    newline(levels_.size());
}

void JsonWriter::key(std::string_view name) {
    assert(!levels_.empty() && levels_.back().object && !after_key_);
    if (levels_.back().members++ > 0) out_ += ',';
    newline(levels_.size());
    out_ += json_quote(name);
    out_ += ": ";
    after_key_ = true;
}

void JsonWriter::scalar(std::string_view text) {
    before_value();
    out_.append(text);
}

void JsonWriter::open(char bracket) {
    before_value();
    out_ += bracket;
    levels_.push_back({bracket == '{'});
}

void JsonWriter::close(char bracket) {
    assert(!levels_.empty() && levels_.back().object == (bracket == '}') && !after_key_);
    const bool had_members = levels_.back().members > 0;
    levels_.pop_back();
    if (had_members) newline(levels_.size());
    out_ += bracket;
}

}  // namespace ringtun::daemon
