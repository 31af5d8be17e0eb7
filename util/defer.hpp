// Defer: runs a callable when the scope ends, for cleanups that have no owning type.
#pragma once

#include <utility>

namespace ringtun::util {

template <typename F>
class [[nodiscard]] Defer {
  public:
    explicit Defer(F f) : f_(std::move(f)) {}
    Defer(const Defer&) = delete;
    Defer& operator=(const Defer&) = delete;
    ~Defer() {
        if (armed_) f_();
    }
    void cancel() noexcept { armed_ = false; }

  private:
    F f_;
    bool armed_ = true;
};

}  // namespace ringtun::util
