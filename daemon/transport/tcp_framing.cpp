#include "daemon/transport/tcp_framing.hpp"

#include <algorithm>
#include <cstring>

namespace ringtun::daemon {

const char* to_string(FrameError e) noexcept {
    switch (e) {
        case FrameError::none:
            return "none";
        case FrameError::zero_length:
            return "zero-length frame";
        case FrameError::oversized:
            return "oversized frame";
        case FrameError::stopped:
            return "stopped";
    }
    return "unknown";
}

FrameAssembler::FrameAssembler(std::size_t max_payload)
    : owned_(std::make_unique_for_overwrite<std::uint8_t[]>(std::min(max_payload, max_frame_len))),
      buffer_(owned_.get(), std::min(max_payload, max_frame_len)) {}

FrameAssembler::FrameAssembler(std::span<std::uint8_t> storage) noexcept
    : buffer_(storage.first(std::min(storage.size(), max_frame_len))) {}

void FrameAssembler::reset() noexcept {
    length_ = 0;
    have_ = 0;
    prefix_have_ = 0;
    error_ = FrameError::none;
}

FrameAssembler::Next FrameAssembler::fail(FrameError e) noexcept {
    error_ = e;
    return Next{Next::Kind::error};
}

FrameAssembler::Next FrameAssembler::next(std::span<std::uint8_t> bytes,
                                          std::size_t& pos) noexcept {
    if (prefix_have_ < frame_prefix_len) {
        while (prefix_have_ < frame_prefix_len && pos < bytes.size())
            prefix_[prefix_have_++] = bytes[pos++];
        if (prefix_have_ < frame_prefix_len) return Next{Next::Kind::end};
        length_ = std::size_t{prefix_[0]} << 8 | prefix_[1];
        have_ = 0;
        if (length_ == 0) return fail(FrameError::zero_length);
        if (length_ > max_payload()) return fail(FrameError::oversized);
    }
    const std::size_t available = bytes.size() - pos;
    if (have_ == 0 && available >= length_) {
        const std::span<std::uint8_t> payload = bytes.subspan(pos, length_);
        pos += length_;
        prefix_have_ = 0;
        return Next{Next::Kind::frame, true, payload};
    }
    if (available == 0) return Next{Next::Kind::end};
    const std::size_t take = std::min(available, length_ - have_);
    std::memcpy(buffer_.data() + have_, bytes.data() + pos, take);
    have_ += take;
    pos += take;
    if (have_ < length_) return Next{Next::Kind::end};
    prefix_have_ = 0;
    return Next{Next::Kind::frame, false, buffer_.first(length_)};
}

}  // namespace ringtun::daemon
