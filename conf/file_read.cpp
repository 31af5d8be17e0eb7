// Whole-file reads for config and key files.
#include "conf/file_read.hpp"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace ringtun::conf {
namespace {

// Closes the descriptor on every path out of read_whole_file.
class FdCloser {
  public:
    explicit FdCloser(int fd) noexcept : fd_(fd) {}
    FdCloser(const FdCloser&) = delete;
    FdCloser& operator=(const FdCloser&) = delete;
    ~FdCloser() { ::close(fd_); }

  private:
    int fd_;
};

FileFailure failure(FileFailure::Kind kind, int err = 0, std::size_t max_bytes = 0) {
    return FileFailure{kind, err, max_bytes};
}

// "64 MiB", "4 KiB", or "1000 bytes" for a size that is not a whole number of either.
std::string size_text(std::size_t bytes) {
    if (bytes != 0 && bytes % (std::size_t{1} << 20) == 0)
        return std::to_string(bytes >> 20) + " MiB";
    if (bytes != 0 && bytes % 1024 == 0) return std::to_string(bytes >> 10) + " KiB";
    return std::to_string(bytes) + " bytes";
}

}  // namespace

std::variant<FileText, FileFailure> read_whole_file(const std::string& path,
                                                    std::size_t max_bytes) {
    // O_NONBLOCK: open() of a FIFO without a writer (or of some devices) would otherwise
    // block before fstat could tell that it is not a regular file.
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) return failure(FileFailure::Kind::open, errno);
    FdCloser closer(fd);
    struct stat st {};
    if (fstat(fd, &st) != 0) return failure(FileFailure::Kind::read, errno);
    if (!S_ISREG(st.st_mode)) return failure(FileFailure::Kind::not_regular);
    // A regular file ignores O_NONBLOCK, but some network filesystems do not; read plainly.
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
        return failure(FileFailure::Kind::read, errno);
    }
    if (static_cast<std::size_t>(st.st_size) > max_bytes) {
        return failure(FileFailure::Kind::too_large, 0, max_bytes);
    }
    // One byte more than stat promised, to notice a file that grew past the limit meanwhile.
    FileText out{SecretText::zeroed(static_cast<std::size_t>(st.st_size) + 1), st.st_mode,
                 st.st_uid};
    std::size_t filled = 0;
    while (filled < out.text.size()) {
        const ssize_t n = ::read(fd, out.text.data() + filled, out.text.size() - filled);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return failure(FileFailure::Kind::read, errno);
        if (n == 0) break;
        filled += static_cast<std::size_t>(n);
    }
    if (filled > max_bytes) return failure(FileFailure::Kind::too_large, 0, max_bytes);
    out.text.truncate(filled);
    return out;
}

std::string describe(const FileFailure& failure, std::string_view subject, std::string_view kind) {
    const std::string s = subject.empty() ? std::string() : std::string(subject);
    const std::string sp = subject.empty() ? std::string() : ' ' + s;
    switch (failure.kind) {
        case FileFailure::Kind::open:
            // A daemon that dropped to its user rereads its files as that user: say which.
            if (failure.err == EACCES && ::geteuid() != 0)
                return "cannot open" + sp + ": " + strerror(failure.err) + " (read as uid " +
                       std::to_string(::geteuid()) + ", gid " + std::to_string(::getegid()) + ")";
            return "cannot open" + sp + ": " + strerror(failure.err);
        case FileFailure::Kind::read:
            return "cannot read" + sp + ": " + strerror(failure.err);
        case FileFailure::Kind::not_regular:
            return subject.empty() ? "not a regular file" : s + " is not a regular file";
        case FileFailure::Kind::too_large:
            return (subject.empty() ? "larger than " : s + " is larger than ") +
                   "ringtun's limit of " + size_text(failure.max_bytes) +
                   (kind.empty() ? std::string() : " for " + std::string(kind));
    }
    return "cannot read" + sp;
}

std::string mode_octal(mode_t mode) {
    char octal[8];
    std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(mode & 07777));
    return octal;
}

std::string permission_message(std::string_view path, mode_t mode, std::string_view what) {
    const std::string p(path);
    return p + ' ' + std::string(what) + "is accessible by group or others (mode " +
           mode_octal(mode) + "); run: chmod 600 " + p + " (or, owned by root, chmod 640 " + p +
           " for the daemon's group: see ringtun.toml(5))";
}

}  // namespace ringtun::conf
