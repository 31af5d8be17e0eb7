// Mapping: sole owner of an anonymous, page-aligned memory mapping, unmapped on destruction.
// Used for buffer-ring descriptors and packet buffers, which the kernel reads and writes.
#pragma once

#include <sys/mman.h>

#include <cerrno>
#include <cstddef>
#include <utility>

#include "util/result.hpp"

namespace ringtun::ring {

class Mapping {
  public:
    Mapping() noexcept = default;
    Mapping(Mapping&& o) noexcept
        : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
    Mapping& operator=(Mapping&& o) noexcept {
        if (this != &o) {
            reset();
            data_ = std::exchange(o.data_, nullptr);
            size_ = std::exchange(o.size_, 0);
        }
        return *this;
    }
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;
    ~Mapping() { reset(); }

    // Private, zero-filled, read-write; `populate` prefaults the pages (MAP_POPULATE) so the
    // data path never takes a first-touch fault. Precondition: size > 0.
    static util::Result<Mapping> anonymous(std::size_t size, bool populate) {
        const int flags = MAP_PRIVATE | MAP_ANONYMOUS | (populate ? MAP_POPULATE : 0);
        void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, flags, -1, 0);
        if (p == MAP_FAILED) return util::fail(util::sys_error("mmap", errno));
        Mapping m;
        m.data_ = static_cast<std::byte*>(p);
        m.size_ = size;
        return m;
    }

    std::byte* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }

  private:
    void reset() noexcept {
        if (data_ != nullptr) ::munmap(data_, size_);
        data_ = nullptr;
        size_ = 0;
    }

    std::byte* data_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace ringtun::ring
