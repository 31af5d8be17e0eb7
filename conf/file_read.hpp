// Reading whole small files (the config file and key files) into wiped storage, with the
// mode bits that the secret-permission rule needs.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

#include "conf/secret_text.hpp"

namespace ringtun::conf {

struct FileText {
    SecretText text;
    mode_t mode = 0;  // st_mode of the opened file
};

struct FileFailure {
    enum class Kind { open, read, not_regular, too_large } kind;
    int err = 0;                // errno for open and read
    std::size_t max_bytes = 0;  // the limit for too_large
};

// Reads the regular file at `path`, which must be at most `max_bytes` long. The mode comes
// from the same open file description as the bytes, so a swap between check and read is moot.
// Never blocks in open(): a FIFO, socket or device is refused as not_regular.
std::variant<FileText, FileFailure> read_whole_file(const std::string& path, std::size_t max_bytes);

// "cannot open SUBJECT: No such file or directory", "SUBJECT is not a regular file", ...;
// with an empty subject: "cannot open: No such file or directory", "not a regular file". Too
// large: "SUBJECT is larger than ringtun's limit of 4 KiB for KIND" (KIND e.g. "a key file"),
// so that nobody takes the limit for the system's.
std::string describe(const FileFailure& failure, std::string_view subject,
                     std::string_view kind = {});

// True when `mode` grants any access to group or others.
inline bool shared_with_others(mode_t mode) {
    return (mode & 077) != 0;
}

// "PATH is accessible by group or others (mode 0644); run: chmod 600 PATH", with `what`
// (e.g. "holds a secret key and ") inserted after PATH.
std::string permission_message(std::string_view path, mode_t mode, std::string_view what = {});

}  // namespace ringtun::conf
