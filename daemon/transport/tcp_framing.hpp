// FrameAssembler: splits one TCP connection's byte stream into WireGuard messages.
//
// Framing (protocol notes, "TCP framing"; Mullvad udp-over-tcp): every message is preceded by
// its length as 2 bytes, big-endian, and nothing else. A length of 0, or one above the largest
// message the daemon accepts, is a protocol error and the connection is closed.
//
// feed() hands each complete payload to a callback. A payload that lies wholly inside the
// bytes of one feed is passed in place (a span into those bytes, so the caller decrypts it
// where it lies); only a payload split across feeds is gathered into the assembler's own
// buffer, allocated once at construction. The length prefix may be split anywhere, even one
// byte per feed; a payload whose prefix was split but whose bytes all arrive in one feed is
// still passed in place.
//
// No allocation, syscall or clock read after construction. Not thread-safe.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace ringtun::daemon {

enum class FrameError : std::uint8_t {
    none,
    zero_length,  // a length prefix of 0
    oversized,    // a length prefix above max_payload
    stopped,      // the callback returned false; the rest of that feed was not read
};

const char* to_string(FrameError e) noexcept;

inline constexpr std::size_t frame_prefix_len = 2;
inline constexpr std::size_t max_frame_len = 0xffff;  // what a 2-byte prefix can express

// on_frame(payload, in_place) -> bool: false stops the feed (the caller closes the connection).
template <typename F>
concept FrameHandler = std::invocable < F&,
        std::span<std::uint8_t>,
bool > &&std::convertible_to<std::invoke_result_t<F&, std::span<std::uint8_t>, bool>, bool>;

class FrameAssembler {
  public:
    // Owns a reassembly buffer of `max_payload` bytes, the largest payload accepted.
    // Precondition: 1 <= max_payload <= max_frame_len (larger values are clamped).
    explicit FrameAssembler(std::size_t max_payload);
    // Borrows `storage` as the reassembly buffer (it must outlive the assembler); its size is
    // max_payload. Lets a table of connections keep all buffers in one allocation.
    explicit FrameAssembler(std::span<std::uint8_t> storage) noexcept;

    FrameAssembler(FrameAssembler&&) noexcept = default;
    FrameAssembler& operator=(FrameAssembler&&) noexcept = default;

    // Reads all of `bytes`, calling on_frame(payload, in_place) for each complete frame in
    // order. in_place = true: payload points into `bytes`. in_place = false: it points into
    // the assembler's buffer and stays valid until the next feed() or reset().
    // Returns none when every byte was consumed (a partial frame may remain pending). Any
    // other result is sticky: later feeds return it without reading until reset(). Frames
    // before a bad length prefix are still delivered.
    template <FrameHandler F>
    FrameError feed(std::span<std::uint8_t> bytes, F&& on_frame) noexcept;

    // True while a length prefix or a payload has begun but not completed.
    bool mid_frame() const noexcept { return prefix_have_ != 0; }
    FrameError error() const noexcept { return error_; }
    std::size_t max_payload() const noexcept { return buffer_.size(); }
    // Forgets any partial frame and the error; for a new connection on the same slot.
    void reset() noexcept;

  private:
    struct Next {
        enum class Kind : std::uint8_t { end, frame, error } kind;
        bool in_place = false;
        std::span<std::uint8_t> payload{};
    };

    // Advances `pos` through `bytes` to the end of the next frame, or to the end of `bytes`.
    Next next(std::span<std::uint8_t> bytes, std::size_t& pos) noexcept;
    Next fail(FrameError e) noexcept;

    std::unique_ptr<std::uint8_t[]> owned_;
    std::span<std::uint8_t> buffer_;
    std::size_t length_ = 0;  // of the pending payload, once its prefix is complete
    std::size_t have_ = 0;    // bytes of the pending payload in buffer_
    std::uint8_t prefix_[frame_prefix_len]{};
    std::uint8_t prefix_have_ = 0;  // 0: between frames; 2: prefix done, payload pending
    FrameError error_ = FrameError::none;
};

template <FrameHandler F>
FrameError FrameAssembler::feed(std::span<std::uint8_t> bytes, F&& on_frame) noexcept {
    if (error_ != FrameError::none) return error_;
    std::size_t pos = 0;
    // Each frame consumes at least one byte, so this ends within bytes.size() + 1 steps.
    for (;;) {
        const Next n = next(bytes, pos);
        if (n.kind == Next::Kind::end) return FrameError::none;
        if (n.kind == Next::Kind::error) return error_;
        if (!on_frame(n.payload, n.in_place)) {
            error_ = FrameError::stopped;
            return error_;
        }
    }
}

}  // namespace ringtun::daemon
