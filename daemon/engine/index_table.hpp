// IndexTable<T>: the random 32-bit local indices that name our handshakes and sessions.
//
// A peer's messages 2, 3 and 4 carry the receiver index we chose; lookup() turns it back into
// the handshake or session it names (protocol notes, "Sessions"). Indices are random so that
// they reveal nothing about how many sessions exist. The table reads no randomness itself:
// insert() takes the random source, so tests are deterministic.
//
// lookup() runs per packet with an index a remote chose: it neither allocates nor throws.
// Not thread-safe; the owner serialises access.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <utility>

namespace ringtun::daemon {

template <typename T>
class IndexTable {
  public:
    // Random draws tried before insert() falls back to scanning; only a broken (repeating)
    // source gets that far.
    static constexpr int kMaxDraws = 64;

    // Stores `value` under a fresh index and returns it. The index is never 0 (callers may
    // use 0 as "no index") and never one in use. `random()` must return std::uint32_t.
    template <typename Random>
    requires std::invocable<Random&>
    [[nodiscard]] std::uint32_t insert(T value, Random&& random);

    // The value stored under `index`, or nullptr. The pointer is valid until that index is
    // removed.
    T* lookup(std::uint32_t index) noexcept {
        const auto it = map_.find(index);
        return it == map_.end() ? nullptr : &it->second;
    }
    const T* lookup(std::uint32_t index) const noexcept {
        const auto it = map_.find(index);
        return it == map_.end() ? nullptr : &it->second;
    }

    // Frees `index` for reuse; false if it was not in use.
    bool remove(std::uint32_t index) { return map_.erase(index) != 0; }

    // Stores `value` under an index already in use; false (and nothing stored) otherwise.
    bool replace(std::uint32_t index, T value) {
        T* slot = lookup(index);
        if (slot == nullptr) return false;
        *slot = std::move(value);
        return true;
    }

    std::size_t size() const noexcept { return map_.size(); }

  private:
    bool usable(std::uint32_t index) const noexcept { return index != 0 && !map_.contains(index); }

    std::unordered_map<std::uint32_t, T> map_;
};

template <typename T>
template <typename Random>
requires std::invocable<Random&> std::uint32_t IndexTable<T>::insert(T value, Random&& random) {
    std::uint32_t index = 0;
    for (int draw = 0; draw < kMaxDraws; ++draw) {
        index = static_cast<std::uint32_t>(random());
        if (usable(index)) break;
    }
    // At most size() indices are taken, so this ends within size() + 2 steps.
    while (!usable(index))
        ++index;
    map_.emplace(index, std::move(value));
    return index;
}

}  // namespace ringtun::daemon
