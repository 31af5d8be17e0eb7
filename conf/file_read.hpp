// Reading whole small files (the config file and key files) into wiped storage, with the
// mode bits that the secret-permission rule needs.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <variant>

#include "conf/secret_text.hpp"

namespace ringtun::conf {

struct FileText {
    SecretText text;
    mode_t mode = 0;  // st_mode of the opened file
    uid_t owner = 0;  // its st_uid
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

// A reader of whole files: read_whole_file, or a stand-in where no file may be opened.
using ReadFileFn = std::function<std::variant<FileText, FileFailure>(const std::string& path,
                                                                     std::size_t max_bytes)>;

// "cannot open SUBJECT: No such file or directory", "SUBJECT is not a regular file", ...;
// with an empty subject: "cannot open: No such file or directory", "not a regular file". Too
// large: "SUBJECT is larger than ringtun's limit of 4 KiB for KIND" (KIND e.g. "a key file"),
// so that nobody takes the limit for the system's.
std::string describe(const FileFailure& failure, std::string_view subject,
                     std::string_view kind = {});

// The rule for files that hold a secret (key files, and configuration files with an inline
// key), as PostgreSQL's for its server key: nobody but the owner may have any access (0600 or
// less), except that a file owned by root may also be read by its group (0640 or less), so
// that root keeps the files and the group the daemon runs as (ringtun, under the systemd
// unit) reads them; nothing for others, never writable by the group. True when `mode` and
// `owner` break it.
inline bool shared_with_others(mode_t mode, uid_t owner) {
    const mode_t allowed = owner == 0 ? 0740 : 0700;
    return (mode & 0777 & ~allowed) != 0;
}

// The permission bits of `mode` as chmod takes them: "0640".
std::string mode_octal(mode_t mode);

// "PATH is accessible by group or others (mode 0644); run: chmod 600 PATH (or, owned by
// root, chmod 640 PATH for the daemon's group)", with `what` (e.g. "holds a secret key and ")
// inserted after PATH.
std::string permission_message(std::string_view path, mode_t mode, std::string_view what = {});

}  // namespace ringtun::conf
