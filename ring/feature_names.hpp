// Names of the IORING_FEAT_* bits io_uring_setup reports, for `ringtun probe`. liburing 2.3
// names bits 0-12; the later ones are written out here with the kernel that added them.
#pragma once

#include <cstdint>
#include <span>

namespace ringtun::ring {

struct FeatureBit {
    std::uint32_t mask;  // IORING_FEAT_*
    const char* name;    // without IORING_FEAT_
};

// Every bit known to us, lowest first.
std::span<const FeatureBit> feature_bit_names() noexcept;

}  // namespace ringtun::ring
