// libFuzzer target for TCP frame reassembly (FrameAssembler, fed as the transport feeds it:
// through ConnectionTable::feed, which also tracks partial frames for the stall sweep). A
// peer's byte stream arrives in arbitrary pieces; what is delivered must be exactly what a
// reference splitter of the whole stream gives (2-byte big-endian length, then that many
// bytes): the same frames in order, then the contract's end:
//   - a length of 0 is zero_length, one above max_payload is oversized; the frames before it
//     are delivered, and the error is sticky (later feeds deliver nothing and return it);
//   - a handler returning false ends the feed with `stopped`, sticky too;
//   - otherwise every byte is consumed, and a frame begun but not complete is mid_frame(),
//     its stall deadline counted from the piece where its first byte arrived.
// A payload passed in place lies inside the piece just fed; one gathered lies in the
// reassembly buffer.
//
// Input: byte 0 picks max_payload (bits 0-2) and the stop frame (bits 3-7: stop after that
// many frames, 0 never); byte 1 seeds the piece sizes (some empty); the rest is the stream.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include "daemon/transport/tcp_connections.hpp"

using namespace ringtun::daemon;
using Bytes = std::vector<std::uint8_t>;

namespace {

void require(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "tcp_framing_fuzz: %s\n", what);
    std::abort();
}

constexpr std::size_t payload_limits[8] = {1, 2, 32, 148, 1500, 1532, 65503, 65535};
constexpr ringtun::crypto::Nanos stall = 1000;
constexpr ExpiryParams expiry_params{stall, ~ringtun::crypto::Nanos{0} / 2};

struct Reference {
    std::vector<Bytes> frames;
    FrameError error = FrameError::none;
    std::size_t partial_from = 0;  // stream offset where the unfinished frame begins
    bool partial = false;
};

Reference split(std::span<const std::uint8_t> s, std::size_t max_payload) {
    Reference r;
    std::size_t pos = 0;
    while (pos < s.size()) {
        if (s.size() - pos < frame_prefix_len) break;
        const std::size_t len = std::size_t{s[pos]} << 8 | s[pos + 1];
        if (len == 0) r.error = FrameError::zero_length;
        if (len > max_payload) r.error = FrameError::oversized;
        if (r.error != FrameError::none) return r;
        if (s.size() - pos - frame_prefix_len < len) break;
        r.frames.emplace_back(s.begin() + static_cast<long>(pos + frame_prefix_len),
                              s.begin() + static_cast<long>(pos + frame_prefix_len + len));
        pos += frame_prefix_len + len;
    }
    r.partial = pos < s.size();
    r.partial_from = pos;
    return r;
}

ConnectionTable<int>& table_for(unsigned choice) {
    static std::unique_ptr<ConnectionTable<int>> tables[8];
    if (!tables[choice])
        tables[choice] = std::make_unique<ConnectionTable<int>>(
            ConnectionParams{.capacity = 1, .max_payload = payload_limits[choice]});
    return *tables[choice];
}

std::uint64_t next_random(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const unsigned choice = data[0] & 7;
    const std::size_t stop_after = data[0] >> 3;
    std::uint64_t rng = data[1];
    const std::span<const std::uint8_t> stream(data + 2, size - 2);
    const std::size_t max_payload = payload_limits[choice];
    const Reference ref = split(stream, max_payload);

    ConnectionTable<int>& table = table_for(choice);
    const Acquire a = table.acquire(0, Direction::inbound);
    require(a.status == AcquireStatus::acquired, "acquire");
    require(table.assembler(a.slot).max_payload() == max_payload, "max_payload");

    std::vector<Bytes> got;
    FrameError error = FrameError::none;
    std::size_t fed = 0;
    ringtun::crypto::Nanos now = 0, partial_since = 0;
    while (fed < stream.size() || now == 0) {
        const std::size_t piece = std::min<std::size_t>(
            stream.size() - fed, next_random(rng) % 8 == 0 ? 0 : 1 + next_random(rng) % 300);
        // A piece lives in an allocation of exactly its size, so ASan sees any overread.
        auto bytes = std::make_unique<std::uint8_t[]>(piece);
        if (piece != 0) std::memcpy(bytes.get(), stream.data() + fed, piece);
        const std::span<std::uint8_t> in(bytes.get(), piece);
        ++now;
        const std::size_t before = got.size();
        const FrameError e = table.feed(a.slot, now, in, [&](std::span<std::uint8_t> p, bool here) {
            const bool inside =
                p.data() >= in.data() && p.data() + p.size() <= in.data() + in.size();
            require(here == inside, "in_place does not say where the payload is");
            got.emplace_back(p.begin(), p.end());
            return stop_after == 0 || got.size() < stop_after;
        });
        require(error == FrameError::none || (e == error && got.size() == before), "not sticky");
        error = e;
        // The unfinished frame's first byte arrives in this piece: its stall clock starts here.
        if (ref.partial && fed <= ref.partial_from && ref.partial_from < fed + piece)
            partial_since = now;
        fed += piece;
    }

    const std::size_t expected =
        stop_after != 0 ? std::min(stop_after, ref.frames.size()) : ref.frames.size();
    require(got.size() == expected, "frame count");
    for (std::size_t i = 0; i < got.size(); ++i)
        require(got[i] == ref.frames[i], "frame bytes");
    if (stop_after != 0 && ref.frames.size() >= stop_after) {
        require(error == FrameError::stopped, "stop not reported");
    } else {
        require(error == ref.error, "error");
    }
    if (error == FrameError::none) {
        require(table.assembler(a.slot).mid_frame() == ref.partial, "mid_frame");
        if (ref.partial) {
            require(table.expiry(a.slot, partial_since + stall, expiry_params) == Expiry::stalled,
                    "stalled partial frame not expired");
            require(table.expiry(a.slot, partial_since + stall - 1, expiry_params) == Expiry::none,
                    "partial frame expired early");
        } else {
            require(table.expiry(a.slot, now + stall, expiry_params) == Expiry::none,
                    "no partial frame, yet stalled");
        }
    }
    table.assembler(a.slot).reset();
    require(table.release(a.slot, [](std::uint32_t) {}), "release");
    return 0;
}
