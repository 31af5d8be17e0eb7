// Batches of packets for the GroTable tests: consecutive packets of a flow, and a table fed
// with packets that stay in place, whose items are checked by splitting them again.
#pragma once

#include <doctest/doctest.h>

#include <optional>
#include <vector>

#include "tests/unit/tun/offload/packets.hpp"
#include "tun/gro.hpp"

namespace ringtun::test {

inline const Bytes timestamps = {1, 1, 8, 10, 0, 0, 0, 42, 0, 0, 0, 7};

// Consecutive packets of one flow: seq and IPv4 ID advance, everything else stays.
struct Stream {
    Spec next;
    std::uint32_t seed = 1;

    Bytes packet(std::size_t len, std::uint8_t flags = tun::tcp::flag_ack) {
        Spec s = next;
        s.payload = payload_bytes(len, seed++);
        s.flags = flags;
        next.seq += static_cast<std::uint32_t>(len);
        ++next.id;
        return build(s);
    }
};

inline Stream tcp_stream(unsigned version, std::uint8_t host = 1) {
    Stream st;
    st.next.version = version;
    st.next.src_host = host;
    st.next.tcp_options = timestamps;
    return st;
}

inline Stream udp_stream(unsigned version, std::uint8_t host = 3) {
    Stream st = tcp_stream(version, host);
    st.next.proto = tun::proto_udp;
    st.next.tcp_options.clear();
    return st;
}

// A batch: packets stay where they are until the test ends; tags are their indices.
struct Batch {
    explicit Batch(tun::GroParams p = {}) : table(p) {}

    std::optional<std::uint32_t> add(Bytes p) {
        originals.push_back(p);
        packets.push_back(std::move(p));
        return table.add(packets.back(), static_cast<std::uint32_t>(packets.size() - 1));
    }

    // The tags of each item, after finish().
    std::vector<std::vector<std::uint32_t>> groups() {
        table.finish();
        std::vector<std::vector<std::uint32_t>> out;
        for (std::uint32_t i = 0; i < table.size(); ++i) {
            const auto tags = table.item(i).tags;
            out.emplace_back(tags.begin(), tags.end());
        }
        return out;
    }

    // Every item written and split again is the packets that went in (finish() first).
    void check_round_trip() {
        for (std::uint32_t i = 0; i < table.size(); ++i) {
            CAPTURE(i);
            const tun::GroTable::Item item = table.item(i);
            const Bytes written = join(item);
            if (item.pieces.size() == 1) {
                CHECK(item.hdr == tun::VirtioNetHdr{});
                CHECK(written == originals[item.tags[0]]);
                continue;
            }
            const auto segs = split_all(item.hdr, written);
            REQUIRE(segs.size() == item.tags.size());
            for (std::size_t k = 0; k < segs.size(); ++k)
                CHECK(segs[k] == originals[item.tags[k]]);
        }
    }

    tun::GroTable table;
    std::vector<Bytes> packets, originals;
};

using Groups = std::vector<std::vector<std::uint32_t>>;

}  // namespace ringtun::test
