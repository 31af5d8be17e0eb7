// The Internet checksum against a byte-by-byte reference, at every length 0..300 and every
// start offset mod 8; the virtio-net header's layout.
#include "tun/checksum.hpp"

#include <doctest/doctest.h>

#include <random>
#include <vector>

#include "tests/unit/tun/offload/packets.hpp"
#include "tun/virtio_net_hdr.hpp"

using namespace ringtun::tun;
using ringtun::test::Bytes;
using ringtun::test::ref_sum;

namespace {

Bytes random_bytes(std::mt19937& rng, std::size_t n) {
    Bytes b(n);
    for (auto& v : b)
        v = static_cast<std::uint8_t>(rng());
    return b;
}

}  // namespace

TEST_CASE("checksum: every length 0..300 at every alignment matches the byte-by-byte sum") {
    std::mt19937 rng(1);
    for (std::size_t len = 0; len <= 300; ++len) {
        for (std::size_t offset = 0; offset < 8; ++offset) {
            const Bytes buf = random_bytes(rng, offset + len);
            const std::span<const std::uint8_t> data(buf.data() + offset, len);
            const std::uint16_t want = ref_sum(data);
            CHECK(checksum_fold(checksum_add(data, 0)) == want);
            // A starting value is added in.
            const std::uint32_t init = static_cast<std::uint32_t>(rng()) & 0xffff;
            CHECK(checksum_fold(checksum_add(data, init)) == ref_sum(data, init));

            Bytes dst(len + 16, 0xa5);
            const std::uint64_t sum = copy_and_checksum(dst.data() + offset, data.data(), len, 0);
            CHECK(checksum_fold(sum) == want);
            CHECK(std::equal(data.begin(), data.end(), dst.begin() + static_cast<long>(offset)));
            // Nothing outside [offset, offset + len) was written.
            for (std::size_t i = 0; i < dst.size(); ++i) {
                if (i < offset || i >= offset + len) REQUIRE(dst[i] == 0xa5);
            }
        }
    }
}

TEST_CASE("checksum: even pieces then any last piece sum like the whole") {
    std::mt19937 rng(2);
    for (int round = 0; round < 2000; ++round) {
        const Bytes buf = random_bytes(rng, rng() % 400);
        std::size_t cut1 = buf.empty() ? 0 : (rng() % buf.size()) & ~std::size_t{1};
        std::size_t cut2 = cut1 + ((rng() % (buf.size() - cut1 + 1)) & ~std::size_t{1});
        const std::span<const std::uint8_t> all(buf);
        std::uint64_t acc = checksum_add(all.first(cut1), 0);
        Bytes copy(buf.size());
        acc = copy_and_checksum(copy.data() + cut1, buf.data() + cut1, cut2 - cut1, acc);
        acc = checksum_add(all.subspan(cut2), acc);
        CHECK(checksum_fold(acc) == ref_sum(all));
    }
}

TEST_CASE("checksum: carries survive long runs of 0xff and a huge starting value") {
    const Bytes ones(65535, 0xff);
    CHECK(checksum_fold(checksum_add(ones, 0)) == ref_sum(ones));
    Bytes dst(ones.size());
    CHECK(checksum_fold(copy_and_checksum(dst.data(), ones.data(), ones.size(), 0)) ==
          ref_sum(ones));
    // acc near 2^64: the end-around carry keeps the sum right.
    const Bytes two = {0x12, 0x34};
    const std::uint64_t big = ~std::uint64_t{0} - 1;
    CHECK(checksum_fold(checksum_add(two, big)) == ref_sum(two, checksum_fold(big)));
    CHECK(checksum_fold(0) == 0);
    CHECK(checksum_fold(0xffff) == 0xffff);
    CHECK(checksum_fold(0x10000) == 1);
    CHECK(checksum_fold(0xffffffffffffffffull) == 0xffff);
}

TEST_CASE("checksum: pseudo-headers match their bytes summed by reference") {
    std::mt19937 rng(3);
    for (int round = 0; round < 200; ++round) {
        const Bytes a = random_bytes(rng, 32);
        const std::uint8_t proto = round % 2 ? 6 : 17;
        const std::uint32_t len4 = rng() % 65536;
        Bytes ph4(a.begin(), a.begin() + 8);
        ph4.insert(ph4.end(), {0, proto, static_cast<std::uint8_t>(len4 >> 8),
                               static_cast<std::uint8_t>(len4)});
        CHECK(checksum_fold(pseudo_header_sum_v4(a.data(), a.data() + 4, proto, len4)) ==
              ref_sum(ph4));
        const std::uint32_t len6 = static_cast<std::uint32_t>(rng());
        Bytes ph6(a);
        ph6.insert(ph6.end(),
                   {static_cast<std::uint8_t>(len6 >> 24), static_cast<std::uint8_t>(len6 >> 16),
                    static_cast<std::uint8_t>(len6 >> 8), static_cast<std::uint8_t>(len6), 0, 0, 0,
                    proto});
        CHECK(checksum_fold(pseudo_header_sum_v6(a.data(), a.data() + 16, proto, len6)) ==
              ref_sum(ph6));
    }
}

TEST_CASE("virtio-net header: 10 bytes in host order, read and written at any alignment") {
    const VirtioNetHdr h{.flags = vnet_flag_needs_csum,
                         .gso_type = gso_tcpv4,
                         .hdr_len = 0x0102,
                         .gso_size = 1448,
                         .csum_start = 20,
                         .csum_offset = 16};
    std::uint8_t buf[vnet_hdr_len + 1] = {};
    write_vnet_hdr(h, buf + 1);
    // x86-64 is little-endian: the 16-bit fields low byte first.
    const std::uint8_t want[vnet_hdr_len] = {1,         1,  0x02, 0x01, 1448 & 0xff,
                                             1448 >> 8, 20, 0,    16,   0};
    CHECK(std::equal(want, want + vnet_hdr_len, buf + 1));
    CHECK(read_vnet_hdr(buf + 1) == h);
    CHECK(vnet_hdr_len == 10);
    CHECK((tun_f_csum | tun_f_tso4 | tun_f_tso6 | tun_f_uso4 | tun_f_uso6) == 0x67);
}
