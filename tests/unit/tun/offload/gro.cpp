// GroTable: what coalesces, the finished head and virtio-net header, PSH and short segments,
// the caps, a full table; every merged item split again gives back the packets that went in,
// byte for byte. What must not coalesce is in gro_refused.cpp.
#include "tun/gro.hpp"

#include <doctest/doctest.h>

#include "tests/unit/tun/offload/batch.hpp"
#include "tun/gso_split.hpp"

using namespace ringtun::tun;
using namespace ringtun::test;

TEST_CASE("gro: a TCP stream coalesces; the finished head and header are right") {
    for (unsigned version : {4u, 6u}) {
        CAPTURE(version);
        Batch b;
        Stream st = tcp_stream(version);
        for (int i = 0; i < 10; ++i)
            CHECK(b.add(st.packet(1448)) == 0u);
        CHECK(b.add(st.packet(500)) == 0u);
        CHECK(b.groups() == Groups{{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}});
        const GroTable::Item item = b.table.item(0);
        const std::size_t ip = version == 4 ? 20 : 40;
        CHECK(item.hdr.flags == vnet_flag_needs_csum);
        CHECK(item.hdr.gso_type == (version == 4 ? gso_tcpv4 : gso_tcpv6));
        CHECK(item.hdr.hdr_len == ip + 32);
        CHECK(item.hdr.gso_size == 1448);
        CHECK(item.hdr.csum_start == ip);
        CHECK(item.hdr.csum_offset == 16);
        CHECK(item.pieces[0].iov_len == ip + 32 + 1448);
        CHECK(item.pieces[10].iov_len == 500);
        const Bytes& head = b.packets[0];
        const std::size_t total = ip + 32 + 10 * 1448 + 500;
        if (version == 4) {
            CHECK(load_be16(&head[2]) == total);
            CHECK(ipv4_header_valid(head));
        } else {
            CHECK(load_be16(&head[4]) == total - 40);
        }
        // The checksum field holds the pseudo-header sum over the merged length: with a
        // valid checksum over the written bytes, NEEDS_CSUM's contract.
        Bytes written = join(item);
        REQUIRE(written.size() == total);
        REQUIRE(finish_checksum(item.hdr, written));
        CHECK(l4_checksum_valid(written, ip, proto_tcp));
        b.check_round_trip();
    }
}

TEST_CASE("gro: a PSH packet ends an item and sets PSH on its head; a PSH head takes nothing") {
    Batch b;
    Stream st = tcp_stream(4);
    b.add(st.packet(1000));
    b.add(st.packet(1000));
    b.add(st.packet(1000, tcp::flag_ack | tcp::flag_psh));
    b.add(st.packet(1000, tcp::flag_ack | tcp::flag_psh));  // a PSH head
    b.add(st.packet(1000));
    b.add(st.packet(300, tcp::flag_ack | tcp::flag_psh));  // short and PSH: the last one
    b.add(st.packet(1000));
    CHECK(b.groups() == Groups{{0, 1, 2}, {3}, {4, 5}, {6}});
    CHECK((b.packets[0][20 + 13] & tcp::flag_psh) != 0);
    b.check_round_trip();
}

TEST_CASE("gro: a short segment ends an item; a longer one cannot join") {
    Batch b;
    Stream st = tcp_stream(6);
    b.add(st.packet(1000));
    b.add(st.packet(999));
    b.add(st.packet(1000));
    b.add(st.packet(1001));
    b.add(st.packet(1001));
    CHECK(b.groups() == Groups{{0, 1}, {2}, {3, 4}});
    b.check_round_trip();
}

TEST_CASE("gro: a bad head is written alone and the next packet may start an item") {
    Batch b;
    Stream st = tcp_stream(4);
    st.next.csum = Csum::bad;
    b.add(st.packet(1000));
    st.next.csum = Csum::valid;
    b.add(st.packet(1000));
    b.add(st.packet(1000));
    st.next.csum = Csum::bad;
    b.add(st.packet(1000));  // bad: alone, and nothing joins it
    st.next.csum = Csum::valid;
    b.add(st.packet(1000));
    CHECK(b.groups() == Groups{{0}, {1, 2}, {3}, {4}});
    b.check_round_trip();
}

TEST_CASE(
    "gro: without checksum verification a bad checksum coalesces (kernel WireGuard's policy)") {
    GroParams p;
    p.verify_checksums = false;
    Batch b(p);
    Stream st = tcp_stream(6);
    b.add(st.packet(1000));
    st.next.csum = Csum::bad;
    b.add(st.packet(1000));
    CHECK(b.groups() == Groups{{0, 1}});
}

TEST_CASE("gro: UDP only when enabled; zero checksums never; a short datagram ends an item") {
    for (unsigned version : {4u, 6u}) {
        CAPTURE(version);
        Batch off;
        Stream st = udp_stream(version);
        for (int i = 0; i < 3; ++i)
            off.add(st.packet(1200));
        CHECK(off.groups() == Groups{{0}, {1}, {2}});

        GroParams p;
        p.udp = true;
        Batch on(p);
        st = udp_stream(version);
        for (int i = 0; i < 3; ++i)
            on.add(st.packet(1200));
        on.add(st.packet(700));
        on.add(st.packet(1200));
        st.next.csum = Csum::zero;
        on.add(st.packet(1200));
        on.add(st.packet(1200));
        CHECK(on.groups() == Groups{{0, 1, 2, 3}, {4}, {5}, {6}});
        const GroTable::Item item = on.table.item(0);
        CHECK(item.hdr.gso_type == gso_udp_l4);
        CHECK(item.hdr.gso_size == 1200);
        CHECK(item.hdr.csum_offset == 6);
        CHECK(item.hdr.hdr_len == (version == 4 ? 28 : 48));
        CHECK(load_be16(&on.packets[0][version == 4 ? 24 : 44]) == 8 + 3 * 1200 + 700);
        on.check_round_trip();
    }
}

TEST_CASE("gro: at most max_segments packets and 65535 bytes in an item") {
    Batch b;
    Stream st = tcp_stream(4);
    for (int i = 0; i < 65; ++i)
        b.add(st.packet(100));
    auto g = b.groups();
    REQUIRE(g.size() == 2);
    CHECK(g[0].size() == 64);
    CHECK(g[1].size() == 1);
    b.check_round_trip();

    GroParams p;
    p.max_segments = 8;
    p.udp = true;
    Batch small(p);
    Stream u = udp_stream(6);
    for (int i = 0; i < 20; ++i)
        small.add(u.packet(100));
    g = small.groups();
    REQUIRE(g.size() == 3);
    CHECK(g[0].size() == 8);
    CHECK(g[2].size() == 4);
    small.check_round_trip();

    // 52 bytes of headers + 5 x 13096 = 65532; + 5 x 13097 = 65537 is over.
    for (std::size_t payload : {13096u, 13097u}) {
        Batch big;
        Stream s = tcp_stream(4);
        for (int i = 0; i < 5; ++i)
            big.add(s.packet(payload));
        g = big.groups();
        CHECK(g[0].size() == (payload == 13096 ? 5u : 4u));
        big.check_round_trip();
    }
    Batch exact;  // IPv4 without options: 40 + 5 x 13099 = 65535 exactly
    Stream e = tcp_stream(4);
    e.next.tcp_options.clear();
    for (int i = 0; i < 6; ++i)
        exact.add(e.packet(13099));
    CHECK(exact.groups() == Groups{{0, 1, 2, 3, 4}, {5}});
    CHECK(load_be16(&exact.packets[0][2]) == 65535);
    exact.check_round_trip();
}

TEST_CASE("gro: a full table refuses new items, then everything, until clear()") {
    GroParams p;
    p.max_flows = 2;
    Batch b(p);
    Stream a = tcp_stream(4, 1), c = tcp_stream(4, 2), d = tcp_stream(6, 3);
    CHECK(b.add(a.packet(1000)) == 0u);
    CHECK(b.add(c.packet(1000)) == 1u);
    CHECK(b.add(a.packet(1000)) == 0u);
    CHECK_FALSE(b.add(d.packet(1000)).has_value());
    // Would join item 0, but a refused packet must not be overtaken by later ones.
    CHECK_FALSE(b.add(a.packet(1000)).has_value());
    CHECK(b.table.size() == 2);
    CHECK(b.groups() == Groups{{0, 2}, {1}});
    CHECK_FALSE(b.add(a.packet(1000)).has_value());  // after finish() too
    b.table.clear();
    CHECK(b.table.size() == 0);
    CHECK(b.add(d.packet(1000)) == 0u);
    GroTable none({.max_flows = 0});
    Bytes p0 = a.packet(10);
    CHECK_FALSE(none.add(p0, 0).has_value());
}

TEST_CASE("gro: interleaved flows coalesce each into its own item, in order of arrival") {
    GroParams p;
    p.udp = true;
    Batch b(p);
    Stream t4 = tcp_stream(4), t6 = tcp_stream(6), u4 = udp_stream(4);
    for (int i = 0; i < 4; ++i) {
        b.add(t6.packet(1400));
        b.add(t4.packet(1448));
        b.add(u4.packet(1000));
    }
    CHECK(b.groups() == Groups{{0, 3, 6, 9}, {1, 4, 7, 10}, {2, 5, 8, 11}});
    b.check_round_trip();
}

TEST_CASE("gro: only the newest item of a flow is considered") {
    Batch b;
    Stream st = tcp_stream(4);
    b.add(st.packet(1000));
    st.next.ttl = 63;
    b.add(st.packet(1000));  // another TTL: a new item, now the flow's newest
    st.next.ttl = 64;
    b.add(st.packet(1000));  // fits neither: not appended to the first item past the second
    b.add(st.packet(1000));
    CHECK(b.groups() == Groups{{0}, {1}, {2, 3}});
    b.check_round_trip();
}

TEST_CASE("gro: items of one packet are written untouched with an all-zero header") {
    Batch b;
    Stream st = tcp_stream(4);
    Bytes syn = st.packet(0, tcp::flag_syn);
    b.add(syn);
    b.add(Bytes{0x45, 0, 0});  // garbage: no candidate, written alone
    b.add(Bytes{});
    CHECK(b.groups() == Groups{{0}, {1}, {2}});
    b.check_round_trip();
    CHECK(b.table.item(3).pieces.empty());
    CHECK(b.table.item(3).tags.empty());
}
