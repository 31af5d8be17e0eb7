// GroTable: what must not coalesce — every rule of gro_candidate.hpp broken once, between two
// packets that would otherwise coalesce — and a packet that is no candidate closing the items
// of its host pair.
#include <doctest/doctest.h>

#include <functional>
#include <string>

#include "tests/unit/tun/offload/batch.hpp"

using namespace ringtun::tun;
using namespace ringtun::test;

namespace {

const Bytes nops = {1, 1, 1, 1};  // 4 bytes of IP or TCP options

}  // namespace

TEST_CASE("gro: packets that must not coalesce") {
    using Change = std::function<void(Spec&)>;
    const std::vector<std::pair<std::string, Change>> changes = {
        {"IPv4 options", [](Spec& s) { s.ip_options = nops; }},
        {"IPv6 extension header", [](Spec& s) { s.ext_headers = {ipv6::ext_destination}; }},
        {"IPv4 MF", [](Spec& s) { s.mf = true; }},
        {"IPv4 fragment offset", [](Spec& s) { s.frag_offset = 100; }},
        {"TOS", [](Spec& s) { s.tos = s.traffic_class = 2; }},
        {"TTL", [](Spec& s) { s.ttl = 63; }},
        {"IPv4 DF", [](Spec& s) { s.df = false; }},
        {"IPv4 reserved flag", [](Spec& s) { s.reserved = true; }},
        {"TCP options", [](Spec& s) { s.tcp_options[7] = 43; }},
        {"TCP option length", [](Spec& s) { s.tcp_options = nops; }},
        {"ACK number", [](Spec& s) { s.ack += 1; }},
        {"ports", [](Spec& s) { s.sport += 1; }},
        {"addresses", [](Spec& s) { s.dst_host = 9; }},
        {"bad checksum", [](Spec& s) { s.csum = Csum::bad; }},
        {"bad IPv4 header checksum", [](Spec& s) { s.bad_ip_csum = true; }},
        {"SYN", [](Spec& s) { s.flags |= tcp::flag_syn; }},
        {"FIN", [](Spec& s) { s.flags |= tcp::flag_fin; }},
        {"RST", [](Spec& s) { s.flags |= tcp::flag_rst; }},
        {"URG", [](Spec& s) { s.flags |= tcp::flag_urg; }},
        {"ECE", [](Spec& s) { s.flags |= tcp::flag_ece; }},
        {"CWR", [](Spec& s) { s.flags |= tcp::flag_cwr; }},
        {"no ACK", [](Spec& s) { s.flags = tcp::flag_psh; }},
        {"AE bit", [](Spec& s) { s.tcp_reserved = 1; }},
        {"gap in seq", [](Spec& s) { s.seq += 1; }},
        {"overlapping seq", [](Spec& s) { s.seq -= 1; }},
        {"no payload", [](Spec& s) { s.payload.clear(); }},
    };
    for (unsigned version : {4u, 6u}) {
        for (const auto& [name, change] : changes) {
            if (version == 6 && name.find("IPv4") != std::string::npos) continue;
            if (version == 4 && name.find("IPv6") != std::string::npos) continue;
            CAPTURE(version);
            CAPTURE(name);
            // The changed packet after a normal one, and two changed packets in a row.
            Spec s;
            s.version = version;
            s.tcp_options = timestamps;
            s.payload = payload_bytes(1000, 1);
            Spec t = s;
            t.seq += 1000;
            t.id += 1;
            Spec changed = t;
            change(changed);
            Batch b;
            b.add(build(s));
            b.add(build(changed));
            CHECK(b.groups() == Groups{{0}, {1}});
            b.check_round_trip();
            Spec first = s;
            change(first);
            Spec second = t;
            change(second);
            Batch both;
            both.add(build(first));
            both.add(build(second));
            if (name == "TOS" || name == "TTL" || name == "IPv4 DF" ||
                name == "IPv4 reserved flag" || name.starts_with("TCP option") ||
                name == "ACK number" || name == "ports" || name == "addresses" ||
                name.ends_with("seq")) {
                continue;  // equal among themselves: these two may coalesce
            }
            CHECK(both.groups() == Groups{{0}, {1}});
        }
    }
}

TEST_CASE("gro: a packet that is no candidate closes the items of its host pair") {
    GroParams p;
    p.udp = true;
    Batch b(p);
    Stream u = udp_stream(4, 3), other = udp_stream(4, 4);
    b.add(u.packet(1200));
    b.add(u.packet(1200));
    b.add(other.packet(1200));
    Spec opt = u.next;  // same hosts and ports, but with IP options: no candidate
    opt.ip_options = {1, 1, 1, 0};
    opt.payload = payload_bytes(1200, 99);
    b.add(build(opt));
    b.add(u.packet(1200));      // must not be written before the packet above
    b.add(other.packet(1200));  // another host pair: still joins
    CHECK(b.groups() == Groups{{0, 1}, {2, 5}, {3}, {4}});
    b.check_round_trip();
}
