// Counts every heap allocation, C++ (operator new) and OpenSSL (CRYPTO_malloc), while an
// established session seals and opens 10,000 packets: the data path must make none.
//
// Its own executable because OpenSSL's allocator hooks can only be installed before OpenSSL
// allocates anything.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "tests/unit/alloc_counter_main.hpp"
#include "tests/unit/crypto/peers.hpp"

using namespace ringtun::test::alloc;
using namespace ringtun::crypto;
using namespace ringtun::test;

TEST_CASE("sealing and opening 10,000 packets allocates nothing") {
    PeerPair p;
    auto s = p.handshake(p.a, p.b);
    constexpr std::size_t mtu = 1420;
    std::vector<std::uint8_t> buffer(sealed_length(mtu, mtu));
    std::vector<std::uint8_t> sizes_seen;
    std::size_t opened_bytes = 0;

    allocations = 0;
    counting = true;
    for (int i = 0; i < 10'000; ++i) {
        const std::size_t len = 20 + static_cast<std::size_t>(i * 131) % (mtu - 20);
        std::uint8_t* packet = buffer.data() + data_header_len;
        std::memset(packet, i & 0xff, len);
        packet[0] = 0x45;
        packet[2] = static_cast<std::uint8_t>(len >> 8);
        packet[3] = static_cast<std::uint8_t>(len);
        Session& from = (i & 1) ? s.initiator : s.responder;
        Session& to = (i & 1) ? s.responder : s.initiator;
        SealResult sealed = seal_data(from, buffer, len, mtu);
        if (sealed.reject != Reject::none) break;
        OpenResult opened = open_data(to, std::span(buffer).first(sealed.length));
        if (opened.reject != Reject::none || opened.packet.size() != len) break;
        opened_bytes += opened.packet.size();
    }
    counting = false;

    CHECK(allocations.load() == 0);
    CHECK(s.initiator.send_counter() == 5000);
    CHECK(s.responder.send_counter() == 5000);
    CHECK(opened_bytes > 10'000u * 20u);
}

TEST_CASE("the counter sees both OpenSSL and C++ allocations") {
    SymmetricKey key;
    allocations = 0;
    counting = true;
    // An OpenSSL cipher context (sessions on AVX-512 CPUs have none).
    auto ctx = AeadContext::create(key, AeadContext::Direction::seal, AeadContext::Engine::openssl);
    counting = false;
    CHECK(ctx);
    CHECK(allocations.load() > 0);
    allocations = 0;
    counting = true;
    auto* v = new std::vector<int>(100);
    counting = false;
    delete v;
    CHECK(allocations.load() >= 2);
}
