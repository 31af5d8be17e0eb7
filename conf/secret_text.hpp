// SecretText: text that must not leak (a base64 private or preshared key, or a whole config
// file that may hold one). Its storage is wiped with explicit_bzero when destroyed, assigned
// over or moved from; it cannot be copied and has no operator<<, so it cannot be printed by
// accident.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

namespace ringtun::conf {

class SecretText {
  public:
    SecretText() noexcept = default;
    explicit SecretText(std::string_view text);
    // `size` zero bytes, to be filled through data() (e.g. by read(2)).
    static SecretText zeroed(std::size_t size);

    SecretText(SecretText&& other) noexcept;
    SecretText& operator=(SecretText&& other) noexcept;
    SecretText(const SecretText&) = delete;
    SecretText& operator=(const SecretText&) = delete;
    ~SecretText() { wipe(); }

    std::string_view view() const noexcept { return {bytes_.get(), size_}; }
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    char* data() noexcept { return bytes_.get(); }

    // Keeps the first `size` bytes and wipes the rest. Precondition: size <= this->size().
    void truncate(std::size_t size) noexcept;

  private:
    void wipe() noexcept;

    std::unique_ptr<char[]> bytes_;
    std::size_t size_ = 0;
};

}  // namespace ringtun::conf
