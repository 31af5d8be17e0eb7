// FrameAssembler: random streams split at random points against a reference, and the errors.
#include "daemon/transport/tcp_framing.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace {

using ringtun::daemon::FrameAssembler;
using ringtun::daemon::FrameError;

using Bytes = std::vector<std::uint8_t>;

struct Delivered {
    Bytes payload;
    bool in_place;
};

// Prefix + payload.
Bytes frame(const Bytes& payload) {
    Bytes out(payload.size() + 2);
    out[0] = static_cast<std::uint8_t>(payload.size() >> 8);
    out[1] = static_cast<std::uint8_t>(payload.size());
    std::copy(payload.begin(), payload.end(), out.begin() + 2);
    return out;
}

// Feeds `bytes` and returns what was delivered.
FrameError feed_collect(FrameAssembler& a, Bytes bytes, std::vector<Delivered>& out) {
    return a.feed(bytes, [&](std::span<std::uint8_t> p, bool in_place) {
        out.push_back({Bytes(p.begin(), p.end()), in_place});
        return true;
    });
}

// The reference: where each frame's payload lies in the stream.
struct Expected {
    std::size_t start;  // of the payload, in stream offsets
    Bytes payload;
};

struct Stream {
    Bytes bytes;
    std::vector<Expected> frames;
};

Stream random_stream(std::mt19937& rng, std::size_t max_payload, int frames) {
    Stream s;
    std::uniform_int_distribution<std::size_t> size(1, max_payload);
    std::uniform_int_distribution<int> byte(0, 255);
    for (int i = 0; i < frames; ++i) {
        Bytes payload(size(rng));
        for (auto& b : payload)
            b = static_cast<std::uint8_t>(byte(rng));
        const Bytes f = frame(payload);
        s.frames.push_back({s.bytes.size() + 2, payload});
        s.bytes.insert(s.bytes.end(), f.begin(), f.end());
    }
    return s;
}

// Feed lengths covering the stream: mode 0 one byte each, 1 up to 4, 2 up to three frames'
// worth, 3 up to the whole stream; any mode sometimes feeds nothing.
std::vector<std::size_t> random_cuts(std::mt19937& rng, std::size_t total, std::size_t max_payload,
                                     int mode) {
    const std::size_t limits[] = {1, 4, 3 * (max_payload + 2), total};
    std::uniform_int_distribution<std::size_t> len(1, limits[mode]);
    std::uniform_int_distribution<int> empty(0, 15);
    std::vector<std::size_t> cuts;
    for (std::size_t done = 0; done < total;) {
        const std::size_t n = empty(rng) == 0 ? 0 : std::min(len(rng), total - done);
        cuts.push_back(n);
        done += n;
    }
    return cuts;
}

// Feeds `s` in pieces of `cuts` and checks every payload, its in_place flag and pointer, and
// mid_frame() after each feed. In-place payloads are then overwritten, as decryption would.
void check_stream(const Stream& s, const std::vector<std::size_t>& cuts, std::size_t max_payload) {
    FrameAssembler a(max_payload);
    std::size_t next = 0;  // index of the next expected frame
    std::size_t offset = 0;
    for (const std::size_t n : cuts) {
        Bytes piece(s.bytes.begin() + static_cast<std::ptrdiff_t>(offset),
                    s.bytes.begin() + static_cast<std::ptrdiff_t>(offset + n));
        const std::uint8_t* lo = piece.data();
        const std::uint8_t* hi = piece.data() + piece.size();
        const FrameError e = a.feed(piece, [&](std::span<std::uint8_t> p, bool in_place) {
            REQUIRE(next < s.frames.size());
            const Expected& x = s.frames[next++];
            CHECK(Bytes(p.begin(), p.end()) == x.payload);
            CHECK(in_place == (x.start >= offset));
            const bool inside = p.data() >= lo && p.data() + p.size() <= hi;
            CHECK(inside == in_place);
            if (in_place) std::fill(p.begin(), p.end(), std::uint8_t{0xee});
            return true;
        });
        REQUIRE(e == FrameError::none);
        offset += n;
        const bool at_boundary = next == s.frames.size() || s.frames[next].start - 2 == offset;
        CHECK(a.mid_frame() == !at_boundary);
    }
    CHECK(next == s.frames.size());
    CHECK_FALSE(a.mid_frame());
}

}  // namespace

TEST_CASE("tcp_framing: random frames split at random points match the reference") {
    const std::size_t max_payloads[] = {1, 2, 3, 17, 148, 1452};
    std::uint32_t seed = 1;
    int runs = 0;
    for (const std::size_t max_payload : max_payloads) {
        for (int mode = 0; mode < 4; ++mode) {
            for (int rep = 0; rep < 6; ++rep, ++seed) {
                std::mt19937 rng(seed);
                CAPTURE(seed);
                CAPTURE(max_payload);
                CAPTURE(mode);
                const Stream s = random_stream(rng, max_payload, 40);
                check_stream(s, random_cuts(rng, s.bytes.size(), max_payload, mode), max_payload);
                ++runs;
            }
        }
    }
    CHECK(runs == 144);
}

TEST_CASE("tcp_framing: many frames in one feed are all passed in place, in order") {
    FrameAssembler a(100);
    Bytes stream;
    for (std::uint8_t i = 1; i <= 50; ++i) {
        const Bytes f = frame(Bytes(i, i));
        stream.insert(stream.end(), f.begin(), f.end());
    }
    std::vector<Delivered> got;
    REQUIRE(feed_collect(a, stream, got) == FrameError::none);
    REQUIRE(got.size() == 50);
    for (std::size_t i = 0; i < got.size(); ++i) {
        CHECK(got[i].payload == Bytes(i + 1, static_cast<std::uint8_t>(i + 1)));
        CHECK(got[i].in_place);
    }
    CHECK_FALSE(a.mid_frame());
}

TEST_CASE("tcp_framing: a split prefix is pending; a payload that then arrives whole is in place") {
    FrameAssembler a(10);
    std::vector<Delivered> got;
    CHECK(feed_collect(a, {0x00}, got) == FrameError::none);
    CHECK(a.mid_frame());
    CHECK(feed_collect(a, {0x03}, got) == FrameError::none);
    CHECK(a.mid_frame());
    CHECK(got.empty());
    CHECK(feed_collect(a, {7, 8, 9}, got) == FrameError::none);
    REQUIRE(got.size() == 1);
    CHECK(got[0].payload == Bytes{7, 8, 9});
    CHECK(got[0].in_place);
    CHECK_FALSE(a.mid_frame());
}

TEST_CASE("tcp_framing: length 0 is an error, sticky until reset") {
    FrameAssembler a(10);
    std::vector<Delivered> got;
    Bytes stream = frame({1, 2});
    stream.insert(stream.end(), {0x00, 0x00});
    const Bytes tail = frame({3});
    stream.insert(stream.end(), tail.begin(), tail.end());

    CHECK(feed_collect(a, stream, got) == FrameError::zero_length);
    REQUIRE(got.size() == 1);  // the frame before the bad prefix
    CHECK(got[0].payload == Bytes{1, 2});
    CHECK(a.error() == FrameError::zero_length);

    CHECK(feed_collect(a, frame({4}), got) == FrameError::zero_length);
    CHECK(got.size() == 1);

    a.reset();
    CHECK(a.error() == FrameError::none);
    CHECK_FALSE(a.mid_frame());
    CHECK(feed_collect(a, frame({4}), got) == FrameError::none);
    REQUIRE(got.size() == 2);
    CHECK(got[1].payload == Bytes{4});
}

TEST_CASE("tcp_framing: a zero length split across feeds is still an error") {
    FrameAssembler a(10);
    std::vector<Delivered> got;
    CHECK(feed_collect(a, {0x00}, got) == FrameError::none);
    CHECK(feed_collect(a, {0x00}, got) == FrameError::zero_length);
    CHECK(got.empty());
}

TEST_CASE("tcp_framing: exactly max_payload is accepted, max_payload + 1 is oversized") {
    const std::size_t max = 1452;
    const Bytes full(max, 0x5a);

    SUBCASE("whole, in place") {
        FrameAssembler a(max);
        std::vector<Delivered> got;
        CHECK(feed_collect(a, frame(full), got) == FrameError::none);
        REQUIRE(got.size() == 1);
        CHECK(got[0].payload == full);
        CHECK(got[0].in_place);
    }
    SUBCASE("split, gathered in the assembler's buffer") {
        FrameAssembler a(max);
        std::vector<Delivered> got;
        const Bytes f = frame(full);
        CHECK(feed_collect(a, Bytes(f.begin(), f.begin() + 700), got) == FrameError::none);
        CHECK(a.mid_frame());
        CHECK(feed_collect(a, Bytes(f.begin() + 700, f.end()), got) == FrameError::none);
        REQUIRE(got.size() == 1);
        CHECK(got[0].payload == full);
        CHECK_FALSE(got[0].in_place);
    }
    SUBCASE("one more byte") {
        FrameAssembler a(max);
        std::vector<Delivered> got;
        CHECK(feed_collect(a, frame(Bytes(max + 1, 0x5a)), got) == FrameError::oversized);
        CHECK(got.empty());
        CHECK(feed_collect(a, frame({1}), got) == FrameError::oversized);
        CHECK(got.empty());
        a.reset();
        CHECK(feed_collect(a, frame({1}), got) == FrameError::none);
        CHECK(got.size() == 1);
    }
    SUBCASE("the oversized prefix alone is enough to fail") {
        FrameAssembler a(max);
        std::vector<Delivered> got;
        CHECK(feed_collect(a, {0xff}, got) == FrameError::none);
        CHECK(feed_collect(a, {0xff}, got) == FrameError::oversized);
    }
}

TEST_CASE("tcp_framing: a callback returning false stops the feed, sticky until reset") {
    FrameAssembler a(10);
    Bytes stream = frame({1});
    const Bytes second = frame({2});
    stream.insert(stream.end(), second.begin(), second.end());
    int calls = 0;
    const auto stop = [&](std::span<std::uint8_t>, bool) {
        ++calls;
        return false;
    };
    CHECK(a.feed(stream, stop) == FrameError::stopped);
    CHECK(calls == 1);
    CHECK(a.feed(stream, stop) == FrameError::stopped);
    CHECK(calls == 1);
    a.reset();
    std::vector<Delivered> got;
    CHECK(feed_collect(a, stream, got) == FrameError::none);
    CHECK(got.size() == 2);
}

TEST_CASE("tcp_framing: reset drops a partial frame") {
    FrameAssembler a(10);
    std::vector<Delivered> got;
    CHECK(feed_collect(a, {0x00, 0x05, 1, 2}, got) == FrameError::none);
    CHECK(a.mid_frame());
    a.reset();
    CHECK_FALSE(a.mid_frame());
    CHECK(feed_collect(a, frame({9, 9}), got) == FrameError::none);
    REQUIRE(got.size() == 1);
    CHECK(got[0].payload == Bytes{9, 9});
}

TEST_CASE("tcp_framing: an empty feed changes nothing; max_payload is clamped to 65535") {
    FrameAssembler a(10);
    std::vector<Delivered> got;
    CHECK(feed_collect(a, {}, got) == FrameError::none);
    CHECK_FALSE(a.mid_frame());
    CHECK(feed_collect(a, {0x00, 0x01}, got) == FrameError::none);
    CHECK(feed_collect(a, {}, got) == FrameError::none);
    CHECK(a.mid_frame());
    CHECK(got.empty());

    CHECK(FrameAssembler(100000).max_payload() == 65535);
    FrameAssembler big(100000);
    CHECK(feed_collect(big, frame(Bytes(65535, 1)), got) == FrameError::none);
    CHECK(got.size() == 1);
}
