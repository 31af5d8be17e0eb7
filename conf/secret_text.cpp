// SecretText storage management; every path that gives up bytes wipes them first.
#include "conf/secret_text.hpp"

#include <string.h>

#include <utility>

namespace ringtun::conf {

SecretText::SecretText(std::string_view text)
    : bytes_(std::make_unique<char[]>(text.size())), size_(text.size()) {
    if (size_ != 0) memcpy(bytes_.get(), text.data(), size_);
}

SecretText SecretText::zeroed(std::size_t size) {
    SecretText s;
    s.bytes_ = std::make_unique<char[]>(size);  // value-initialised: all zero
    s.size_ = size;
    return s;
}

SecretText::SecretText(SecretText&& other) noexcept
    : bytes_(std::move(other.bytes_)), size_(std::exchange(other.size_, 0)) {}

SecretText& SecretText::operator=(SecretText&& other) noexcept {
    if (this != &other) {
        wipe();
        bytes_ = std::move(other.bytes_);
        size_ = std::exchange(other.size_, 0);
    }
    return *this;
}

void SecretText::truncate(std::size_t size) noexcept {
    if (size >= size_) return;
    explicit_bzero(bytes_.get() + size, size_ - size);
    size_ = size;
}

// Wipes and releases; the capacity past size_ was wiped by truncate() already.
void SecretText::wipe() noexcept {
    if (bytes_ && size_ != 0) explicit_bzero(bytes_.get(), size_);
    bytes_.reset();
    size_ = 0;
}

}  // namespace ringtun::conf
