// AllowedIps: longest-prefix match checked case by case and against a brute-force reference.
#include "daemon/engine/allowed_ips.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace {

using ringtun::daemon::AllowedIps;
using Bytes = std::array<std::uint8_t, 16>;

Bytes v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    return Bytes{a, b, c, d};
}

Bytes v6(std::uint16_t first, std::uint16_t last) {
    Bytes b{};
    b[0] = static_cast<std::uint8_t>(first >> 8);
    b[1] = static_cast<std::uint8_t>(first);
    b[14] = static_cast<std::uint8_t>(last >> 8);
    b[15] = static_cast<std::uint8_t>(last);
    return b;
}

int length(int family) {
    return family == AF_INET ? 4 : 16;
}

// Byte `i` of a netmask of `cidr` bits.
std::uint8_t mask_byte(int cidr, int i) {
    const int keep = std::min(8, std::max(0, cidr - 8 * i));
    return static_cast<std::uint8_t>(0xff00u >> keep);
}

// Byte-wise masking, written independently of the trie's 64-bit arithmetic.
Bytes mask(int family, const Bytes& b, int cidr) {
    Bytes out{};
    for (int i = 0; i < length(family); ++i)
        out[i] = b[i] & mask_byte(cidr, i);
    return out;
}

// A prefix as for_each reports it.
using Prefix = std::tuple<int, Bytes, int>;

std::set<Prefix> prefixes_of(const AllowedIps<std::uint32_t>& t, std::uint32_t value) {
    std::set<Prefix> out;
    t.for_each(value, [&](int family, const std::uint8_t* bytes, std::uint8_t cidr) {
        Bytes b{};
        std::copy(bytes, bytes + length(family), b.begin());
        out.emplace(family, b, cidr);
    });
    return out;
}

// The obvious model: a map of masked prefixes, searched linearly.
struct Reference {
    std::map<Prefix, std::uint32_t> entries;

    void insert(int family, const Bytes& b, int cidr, std::uint32_t v) {
        entries[Prefix{family, mask(family, b, cidr), cidr}] = v;
    }
    bool remove(int family, const Bytes& b, int cidr) {
        return entries.erase(Prefix{family, mask(family, b, cidr), cidr}) != 0;
    }
    std::uint32_t lookup(int family, const Bytes& addr) const {
        for (int cidr = length(family) * 8; cidr >= 0; --cidr) {
            const auto it = entries.find(Prefix{family, mask(family, addr, cidr), cidr});
            if (it != entries.end()) return it->second;
        }
        return 0;
    }
};

// Random addresses clustered around a few bases, so that prefixes nest and overlap.
struct Generator {
    std::mt19937 rng{20240611};
    std::vector<Bytes> bases4, bases6;

    Generator() {
        for (int i = 0; i < 6; ++i) {
            bases4.push_back(random_bytes());
            bases6.push_back(random_bytes());
        }
    }
    Bytes random_bytes() {
        Bytes b{};
        for (auto& x : b)
            x = static_cast<std::uint8_t>(rng());
        return b;
    }
    int below(int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); }
    // A base with everything after a random bit position randomised (or fully random).
    Bytes address(int family) {
        const int bits = length(family) * 8;
        if (below(8) == 0) return mask(family, random_bytes(), bits);
        const Bytes& base = family == AF_INET ? bases4[below(6)] : bases6[below(6)];
        const int keep = below(bits + 1);
        const Bytes noise = random_bytes();
        Bytes out{};
        for (int i = 0; i < length(family); ++i) {
            const std::uint8_t m = mask_byte(keep, i);
            out[i] = static_cast<std::uint8_t>((base[i] & m) | (noise[i] & ~m));
        }
        return out;
    }
    int family() { return below(2) == 0 ? AF_INET : AF_INET6; }
};

void check_lookups(const AllowedIps<std::uint32_t>& t, const Reference& ref, Generator& gen,
                   int count) {
    int mismatches = 0;
    for (int i = 0; i < count; ++i) {
        const int family = gen.family();
        const Bytes addr = gen.address(family);
        if (t.lookup(family, addr.data()) != ref.lookup(family, addr)) ++mismatches;
    }
    CHECK(mismatches == 0);
}

struct Peer {
    int id;
};

}  // namespace

TEST_CASE("allowed_ips: nested prefixes resolve to the longest match") {
    AllowedIps<std::uint32_t> t;
    REQUIRE(t.insert(AF_INET, v4(10, 0, 0, 0).data(), 8, 1));
    REQUIRE(t.insert(AF_INET, v4(10, 1, 0, 0).data(), 16, 2));
    REQUIRE(t.insert(AF_INET, v4(10, 1, 1, 0).data(), 24, 3));
    REQUIRE(t.insert(AF_INET, v4(10, 1, 1, 7).data(), 32, 4));
    CHECK(t.size() == 4);
    CHECK(t.lookup(AF_INET, v4(10, 9, 9, 9).data()) == 1);
    CHECK(t.lookup(AF_INET, v4(10, 1, 9, 9).data()) == 2);
    CHECK(t.lookup(AF_INET, v4(10, 1, 1, 9).data()) == 3);
    CHECK(t.lookup(AF_INET, v4(10, 1, 1, 7).data()) == 4);
    CHECK(t.lookup(AF_INET, v4(11, 1, 1, 7).data()) == 0);

    CHECK(t.remove(AF_INET, v4(10, 1, 0, 0).data(), 16));
    CHECK(t.lookup(AF_INET, v4(10, 1, 9, 9).data()) == 1);
    CHECK(t.lookup(AF_INET, v4(10, 1, 1, 9).data()) == 3);
    CHECK(t.size() == 3);
}

TEST_CASE("allowed_ips: remove held_by takes a prefix only from its holder") {
    AllowedIps<std::uint32_t> t;
    REQUIRE(t.insert(AF_INET, v4(10, 1, 0, 0).data(), 16, 2));
    CHECK_FALSE(t.remove(AF_INET, v4(10, 1, 0, 0).data(), 16, 3));
    CHECK(t.lookup(AF_INET, v4(10, 1, 2, 3).data()) == 2);
    CHECK(t.size() == 1);
    CHECK(t.remove(AF_INET, v4(10, 1, 7, 7).data(), 16, 2));  // host bits ignored, as always
    CHECK(t.size() == 0);
}

TEST_CASE("allowed_ips: /0, /32 and /128 edges; families stay apart") {
    AllowedIps<std::uint32_t> t;
    REQUIRE(t.insert(AF_INET, v4(0, 0, 0, 0).data(), 0, 1));
    CHECK(t.lookup(AF_INET, v4(255, 255, 255, 255).data()) == 1);
    CHECK(t.lookup(AF_INET, v4(0, 0, 0, 0).data()) == 1);
    CHECK(t.lookup(AF_INET6, v6(0, 0).data()) == 0);

    REQUIRE(t.insert(AF_INET, v4(192, 0, 2, 1).data(), 32, 2));
    CHECK(t.lookup(AF_INET, v4(192, 0, 2, 1).data()) == 2);
    CHECK(t.lookup(AF_INET, v4(192, 0, 2, 0).data()) == 1);

    REQUIRE(t.insert(AF_INET6, v6(0, 0).data(), 0, 3));
    REQUIRE(t.insert(AF_INET6, v6(0xfd00, 1).data(), 128, 4));
    CHECK(t.lookup(AF_INET6, v6(0xfd00, 1).data()) == 4);
    CHECK(t.lookup(AF_INET6, v6(0xfd00, 2).data()) == 3);
    CHECK(t.lookup(AF_INET6, v6(0xffff, 0xffff).data()) == 3);
    // An IPv6 address whose first 4 bytes spell an IPv4 prefix does not match it.
    CHECK(t.lookup(AF_INET6, v4(192, 0, 2, 1).data()) == 3);

    CHECK(t.remove(AF_INET, v4(0, 0, 0, 0).data(), 0));
    CHECK(t.lookup(AF_INET, v4(8, 8, 8, 8).data()) == 0);
    CHECK(t.lookup(AF_INET6, v6(1, 1).data()) == 3);
}

TEST_CASE("allowed_ips: host bits are masked on insert and remove") {
    AllowedIps<std::uint32_t> t;
    REQUIRE(t.insert(AF_INET, v4(10, 1, 2, 3).data(), 8, 5));
    CHECK(prefixes_of(t, 5) == std::set<Prefix>{{AF_INET, v4(10, 0, 0, 0), 8}});
    REQUIRE(t.insert(AF_INET6, v6(0xfd12, 0xabcd).data(), 16, 5));
    CHECK(prefixes_of(t, 5).count(Prefix{AF_INET6, v6(0xfd12, 0), 16}) == 1);
    CHECK(t.remove(AF_INET, v4(10, 200, 0, 1).data(), 8));
    CHECK(t.lookup(AF_INET, v4(10, 1, 2, 3).data()) == 0);
}

TEST_CASE("allowed_ips: a prefix claimed by another value moves") {
    AllowedIps<std::uint32_t> t;
    REQUIRE(t.insert(AF_INET, v4(10, 0, 0, 0).data(), 24, 1));
    REQUIRE(t.insert(AF_INET, v4(10, 0, 1, 0).data(), 24, 1));
    REQUIRE(t.insert(AF_INET, v4(10, 0, 0, 0).data(), 24, 2));
    CHECK(t.size() == 2);
    CHECK(t.lookup(AF_INET, v4(10, 0, 0, 1).data()) == 2);
    CHECK(t.lookup(AF_INET, v4(10, 0, 1, 1).data()) == 1);
    CHECK(prefixes_of(t, 1) == std::set<Prefix>{{AF_INET, v4(10, 0, 1, 0), 24}});
    CHECK(prefixes_of(t, 2) == std::set<Prefix>{{AF_INET, v4(10, 0, 0, 0), 24}});
}

TEST_CASE("allowed_ips: remove_all drops exactly one value's prefixes") {
    AllowedIps<std::uint32_t> t;
    REQUIRE(t.insert(AF_INET, v4(10, 0, 0, 0).data(), 8, 1));
    REQUIRE(t.insert(AF_INET, v4(10, 1, 0, 0).data(), 16, 2));
    REQUIRE(t.insert(AF_INET, v4(10, 1, 1, 0).data(), 24, 1));
    REQUIRE(t.insert(AF_INET6, v6(0xfd00, 0).data(), 8, 1));
    REQUIRE(t.insert(AF_INET6, v6(0xfd00, 0).data(), 64, 2));
    CHECK(t.remove_all(1) == 3);
    CHECK(t.size() == 2);
    CHECK(prefixes_of(t, 1).empty());
    CHECK(t.lookup(AF_INET, v4(10, 1, 1, 1).data()) == 2);
    CHECK(t.lookup(AF_INET, v4(10, 2, 0, 0).data()) == 0);
    CHECK(t.lookup(AF_INET6, v6(0xfd00, 9).data()) == 2);
    CHECK(t.lookup(AF_INET6, v6(0xfe00, 9).data()) == 0);
    CHECK(t.remove_all(1) == 0);
    CHECK(t.remove_all(2) == 2);
    CHECK(t.size() == 0);
    CHECK(t.lookup(AF_INET, v4(10, 1, 1, 1).data()) == 0);
}

TEST_CASE("allowed_ips: branch points are not prefixes") {
    AllowedIps<std::uint32_t> t;
    REQUIRE(t.insert(AF_INET, v4(10, 0, 0, 0).data(), 24, 1));
    REQUIRE(t.insert(AF_INET, v4(10, 0, 1, 0).data(), 24, 2));
    // Both hang below an internal node for 10.0.0.0/23, which holds no value.
    CHECK_FALSE(t.remove(AF_INET, v4(10, 0, 0, 0).data(), 23));
    CHECK(t.lookup(AF_INET, v4(10, 0, 0, 5).data()) == 1);
    CHECK(t.lookup(AF_INET, v4(10, 0, 1, 5).data()) == 2);
    CHECK(prefixes_of(t, 0).empty());
    REQUIRE(t.insert(AF_INET, v4(10, 0, 0, 0).data(), 23, 3));
    CHECK(t.lookup(AF_INET, v4(10, 0, 0, 5).data()) == 1);
    CHECK(t.remove(AF_INET, v4(10, 0, 0, 0).data(), 24));
    CHECK(t.lookup(AF_INET, v4(10, 0, 0, 5).data()) == 3);
    CHECK_FALSE(t.remove(AF_INET, v4(10, 0, 0, 0).data(), 24));
}

TEST_CASE("allowed_ips: invalid arguments change nothing") {
    AllowedIps<std::uint32_t> t;
    CHECK_FALSE(t.insert(AF_INET, v4(10, 0, 0, 0).data(), 33, 1));
    CHECK_FALSE(t.insert(AF_INET6, v6(1, 1).data(), 129, 1));
    CHECK_FALSE(t.insert(AF_UNIX, v4(10, 0, 0, 0).data(), 8, 1));
    CHECK_FALSE(t.insert(AF_INET, v4(10, 0, 0, 0).data(), 8, t.none()));
    CHECK(t.size() == 0);
    CHECK(t.lookup(AF_UNIX, v4(10, 0, 0, 0).data()) == 0);
    CHECK_FALSE(t.remove(AF_INET, v4(10, 0, 0, 0).data(), 40));
}

TEST_CASE("allowed_ips: typed handles with a custom none") {
    Peer a{1}, b{2};
    AllowedIps<const Peer*> peers;
    CHECK(peers.none() == nullptr);
    REQUIRE(peers.insert(AF_INET6, v6(0xfd00, 0).data(), 16, &a));
    REQUIRE(peers.insert(AF_INET6, v6(0xfd00, 0x100).data(), 120, &b));
    CHECK(peers.lookup(AF_INET6, v6(0xfd00, 0x101).data()) == &b);
    CHECK(peers.lookup(AF_INET6, v6(0xfd00, 0x201).data()) == &a);

    AllowedIps<int> indices(-1);
    REQUIRE(indices.insert(AF_INET, v4(10, 0, 0, 0).data(), 8, 0));
    CHECK(indices.lookup(AF_INET, v4(10, 0, 0, 1).data()) == 0);
    CHECK(indices.lookup(AF_INET, v4(11, 0, 0, 1).data()) == -1);

    AllowedIps<const Peer*> moved = std::move(peers);
    CHECK(moved.lookup(AF_INET6, v6(0xfd00, 0x101).data()) == &b);
    moved.clear();
    CHECK(moved.size() == 0);
    CHECK(moved.lookup(AF_INET6, v6(0xfd00, 0x101).data()) == nullptr);
}

TEST_CASE("allowed_ips: random operations agree with a brute-force reference") {
    Generator gen;
    Reference ref;
    AllowedIps<std::uint32_t> t;
    constexpr std::uint32_t kValues = 40;

    for (int round = 0; round < 4; ++round) {
        CAPTURE(round);
        for (int i = 0; i < 1500; ++i) {
            const int family = gen.family();
            const Bytes b = gen.address(family);
            const int cidr = gen.below(length(family) * 8 + 1);
            const auto v = static_cast<std::uint32_t>(1 + gen.below(kValues));
            REQUIRE(t.insert(family, b.data(), static_cast<std::uint8_t>(cidr), v));
            ref.insert(family, b, cidr, v);
        }
        CHECK(t.size() == ref.entries.size());
        check_lookups(t, ref, gen, 3000);

        // Remove known prefixes (with fresh host bits) and random ones.
        int disagreements = 0;
        for (int i = 0; i < 400 && !ref.entries.empty(); ++i) {
            auto it = ref.entries.begin();
            std::advance(it, gen.below(static_cast<int>(ref.entries.size())));
            auto [family, bytes, cidr] = it->first;
            if (gen.below(2) == 0) bytes = gen.address(family);
            const bool expected = ref.remove(family, bytes, cidr);
            if (t.remove(family, bytes.data(), static_cast<std::uint8_t>(cidr)) != expected) {
                ++disagreements;
            }
        }
        CHECK(disagreements == 0);
        CHECK(t.size() == ref.entries.size());
        check_lookups(t, ref, gen, 3000);

        const auto gone = static_cast<std::uint32_t>(1 + gen.below(kValues));
        std::size_t expected_gone =
            std::erase_if(ref.entries, [&](const auto& e) { return e.second == gone; });
        CHECK(t.remove_all(gone) == expected_gone);
        check_lookups(t, ref, gen, 3000);
    }

    for (std::uint32_t v = 1; v <= kValues; ++v) {
        std::set<Prefix> expected;
        for (const auto& [p, value] : ref.entries) {
            if (value == v) expected.insert(p);
        }
        CHECK(prefixes_of(t, v) == expected);
    }
}
