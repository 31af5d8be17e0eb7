#include "daemon/control/uapi_session.hpp"

#include "util/log.hpp"

namespace ringtun::daemon::control {

void append_errno(std::string& out, UapiError e) {
    out += "errno=";
    if (e != UapiError::none) out += '-';
    out += std::to_string(static_cast<int>(e));
    out += "\n\n";
}

std::size_t UapiSession::feed(std::string_view in, UapiTarget& target, std::string& out) {
    const std::size_t replies_before = out.size();
    std::size_t i = 0;
    // One reply at a time: the caller sends it before more input is read.
    while (i < in.size() && state_ != State::done && out.size() == replies_before) {
        const char c = in[i++];
        if (state_ == State::get_terminator || state_ == State::reload_terminator) {
            if (c == '\n') {
                UapiError result = UapiError::none;
                if (state_ == State::get_terminator)
                    target.write_config(out);
                else
                    result = target.reload(out);
                append_errno(out, result);
                state_ = State::operation;
            } else {
                append_errno(out, UapiError::invalid);
                state_ = State::done;
            }
            continue;
        }
        if (c != '\n') {
            if (line_.size() == max_line) {
                // The protocol can only answer an errno: say here whose limit it was.
                RT_LOG_NOTICE(
                    "uapi: a line longer than ringtun's limit of %zu bytes; "
                    "request refused (EINVAL)",
                    max_line);
                if (state_ == State::set_lines) target.end_set();
                append_errno(out, UapiError::invalid);
                state_ = State::done;
                break;
            }
            line_ += c;
            continue;
        }
        on_line(line_, target, out);
        line_.clear();
    }
    return i;
}

void UapiSession::on_line(std::string_view line, UapiTarget& target, std::string& out) {
    if (state_ == State::operation) {
        if (line == "get=1") {
            state_ = State::get_terminator;
        } else if (line == "reload=1") {
            state_ = State::reload_terminator;
        } else if (line == "set=1") {
            state_ = State::set_lines;
            in_peer_ = false;
            target.begin_set();
        } else {
            state_ = State::done;  // unknown operation: no reply, as wireguard-go
        }
        return;
    }
    // set_lines
    if (line.empty()) return finish_set(UapiError::none, target, out);
    const ParsedLine parsed = parse_set_line(line, in_peer_);
    UapiError e = parsed.error;
    if (e == UapiError::none) e = target.apply(parsed.command);
    if (e != UapiError::none) return finish_set(e, target, out);
    if (std::holds_alternative<set::PublicKey>(parsed.command)) in_peer_ = true;
}

void UapiSession::finish_set(UapiError result, UapiTarget& target, std::string& out) {
    target.end_set();
    append_errno(out, result);
    state_ = result == UapiError::none ? State::operation : State::done;
}

void UapiSession::end_of_input(UapiTarget& target, std::string& out) {
    // A last line without its '\n' still counts, as wireguard-go reads it.
    if (state_ == State::set_lines && !line_.empty()) on_line(line_, target, out);
    line_.clear();
    if (state_ == State::set_lines) finish_set(UapiError::none, target, out);
    state_ = State::done;
}

}  // namespace ringtun::daemon::control
