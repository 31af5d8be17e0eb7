// Result<T>: the error channel for setup code, syscalls and configuration.
//
// Spelled like C++23 std::expected (value(), error(), has_value(), operator*, operator->) so
// that moving to std::expected later is an alias swap. The data path never uses it: packet
// handling reports drops through counters instead.
#pragma once

#include <cerrno>
#include <string>
#include <utility>
#include <variant>

namespace ringtun::util {

// An error from setup: what failed (`where`, e.g. "io_uring_queue_init_params"), the errno
// if a syscall failed (0 otherwise), and a human-readable detail.
struct Error {
    std::string where;
    int sys_errno = 0;
    std::string detail;

    // "where: detail (strerror)" — suitable for a log line.
    std::string to_string() const;
};

// Builds an Error from a failed syscall's errno (or a negated -errno from io_uring).
Error sys_error(std::string where, int err, std::string detail = {});
// Builds an Error without an errno.
Error make_error(std::string where, std::string detail);

// The symbolic name of an errno value ("EPERM"), or "errno N" for one the C library does not
// know. Negative values (io_uring's -errno) are taken as their magnitude.
std::string errno_name(int err);

template <typename E>
struct Unexpected {
    E error;
};

inline Unexpected<Error> fail(Error e) {
    return {std::move(e)};
}

template <typename T, typename E = Error>
class [[nodiscard]] Expected {
  public:
    Expected(T value) : v_(std::in_place_index<0>, std::move(value)) {}
    Expected(Unexpected<E> u) : v_(std::in_place_index<1>, std::move(u.error)) {}

    bool has_value() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    // Precondition: has_value().
    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    // Precondition: !has_value().
    const E& error() const& { return std::get<1>(v_); }

  private:
    std::variant<T, E> v_;
};

template <typename E>
class [[nodiscard]] Expected<void, E> {
  public:
    Expected() = default;
    Expected(Unexpected<E> u) : err_(std::move(u.error)), ok_(false) {}

    bool has_value() const noexcept { return ok_; }
    explicit operator bool() const noexcept { return ok_; }
    const E& error() const& { return err_; }

  private:
    E err_{};
    bool ok_ = true;
};

template <typename T>
using Result = Expected<T, Error>;

}  // namespace ringtun::util
