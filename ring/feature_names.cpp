// IORING_FEAT_* names; see feature_names.hpp.
#include "ring/feature_names.hpp"

#include "ring/compat.hpp"

namespace ringtun::ring {

namespace {

constexpr FeatureBit kBits[] = {
    {IORING_FEAT_SINGLE_MMAP, "SINGLE_MMAP"},          // 5.4
    {IORING_FEAT_NODROP, "NODROP"},                    // 5.5
    {IORING_FEAT_SUBMIT_STABLE, "SUBMIT_STABLE"},      // 5.5
    {IORING_FEAT_RW_CUR_POS, "RW_CUR_POS"},            // 5.6
    {IORING_FEAT_CUR_PERSONALITY, "CUR_PERSONALITY"},  // 5.6
    {IORING_FEAT_FAST_POLL, "FAST_POLL"},              // 5.7
    {IORING_FEAT_POLL_32BITS, "POLL_32BITS"},          // 5.9
    {IORING_FEAT_SQPOLL_NONFIXED, "SQPOLL_NONFIXED"},  // 5.11
    {IORING_FEAT_EXT_ARG, "EXT_ARG"},                  // 5.11
    {IORING_FEAT_NATIVE_WORKERS, "NATIVE_WORKERS"},    // 5.12
    {IORING_FEAT_RSRC_TAGS, "RSRC_TAGS"},              // 5.13
    {IORING_FEAT_CQE_SKIP, "CQE_SKIP"},                // 5.17
    {IORING_FEAT_LINKED_FILE, "LINKED_FILE"},          // 5.17
    {IORING_FEAT_REG_REG_RING, "REG_REG_RING"},        // 6.3
    {IORING_FEAT_RECVSEND_BUNDLE, "RECVSEND_BUNDLE"},  // 6.10
    {IORING_FEAT_MIN_TIMEOUT, "MIN_TIMEOUT"},          // 6.12
    {1U << 16, "RW_ATTR"},                             // 6.14
    {1U << 17, "NO_IOWAIT"},                           // 6.15
};

}  // namespace

std::span<const FeatureBit> feature_bit_names() noexcept {
    return kBits;
}

}  // namespace ringtun::ring
