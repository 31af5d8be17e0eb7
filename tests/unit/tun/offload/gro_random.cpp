// GroTable against a reference model: random batches from a few flows (random sizes, PSH,
// gaps, ACK and TTL changes, bad checksums, packets that are no candidates) must group exactly
// as the model says, and every item split again must give back its packets, in order.
//
// The model decides from what the generator knows about each packet (its flow, sequence
// number, size, flags, whether its checksum is bad), not from its bytes, and applies the rules
// of gro.hpp with a plain scan over all items so far.
#include <doctest/doctest.h>

#include <optional>
#include <random>
#include <vector>

#include "tests/unit/tun/offload/packets.hpp"
#include "tun/gro.hpp"

using namespace ringtun::tun;
using namespace ringtun::test;

namespace {

// What the generator knows about a packet.
struct Meta {
    int flow = 0;
    int host_pair = 0;
    bool udp = false;
    bool candidate = true;
    bool bad = false;  // a bad L4 or IPv4 header checksum
    bool psh = false;
    std::uint32_t ack = 0, seq = 0;
    std::size_t payload = 0, header_len = 0;
    std::uint8_t ttl = 64;
};

struct Flow {
    Spec next;
    int host_pair;
    std::size_t mss;
};

std::vector<Flow> make_flows(std::mt19937& rng) {
    static const std::size_t mss_choices[] = {1, 7, 100, 1000, 1448, 9000};
    auto mss = [&] { return mss_choices[rng() % std::size(mss_choices)]; };
    std::vector<Flow> flows(5);
    // Flows 0 and 2 share a host pair (TCP, other ports); 3 and 4 are UDP.
    for (int i = 0; i < 5; ++i) {
        Spec& s = flows[static_cast<std::size_t>(i)].next;
        s.version = i == 1 || i == 4 ? 6 : 4;
        s.proto = i >= 3 ? proto_udp : proto_tcp;
        s.src_host = static_cast<std::uint8_t>(i == 2 ? 1 : 1 + i);
        s.sport = static_cast<std::uint16_t>(40000 + i);
        s.seq = static_cast<std::uint32_t>(rng());
        s.ack = static_cast<std::uint32_t>(rng());
        s.id = static_cast<std::uint16_t>(rng());
        if (i == 0) s.tcp_options = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2};
        flows[static_cast<std::size_t>(i)].host_pair = i == 2 ? 1 : 1 + i;
        flows[static_cast<std::size_t>(i)].mss = mss();
    }
    return flows;
}

// One packet of `f`, with a random event in 32 of `calm` cases; `fixed` gets the same packet
// with good checksums.
Bytes next_packet(std::mt19937& rng, unsigned calm, Flow& f, int index, Meta& m, Bytes& fixed) {
    Spec s = f.next;
    const bool udp = s.proto == proto_udp;
    std::size_t len = f.mss;
    const unsigned event = rng() % calm;
    if (event < 8 && f.mss > 1)
        len = 1 + rng() % (f.mss - 1);  // short
    else if (event < 13 && !udp)
        s.flags |= tcp::flag_psh;  // PSH
    else if (event < 16)
        s.csum = Csum::bad;  // bad L4 checksum
    else if (event < 17 && s.version == 4)
        s.bad_ip_csum = true;  // bad IP checksum
    else if (event < 20 && !udp)
        s.seq += 1 + rng() % 3000;  // gap
    else if (event < 22 && !udp)
        s.flags |= tcp::flag_fin;  // no candidate
    else if (event < 24 && s.version == 4)
        s.ip_options = {1, 1, 1, 0};  // no candidate
    else if (event < 26 && udp)
        s.csum = Csum::zero;  // no candidate
    else if (event < 28 && !udp)
        f.next.ack = s.ack += 1 + rng() % 100000;  // new ACK
    else if (event < 30)
        s.ttl = 17;  // one odd TTL
    else if (event < 32)
        len = f.mss + 1 + rng() % 100;  // longer
    s.payload = payload_bytes(len, static_cast<std::uint32_t>(rng()));
    m.flow = index;
    m.host_pair = f.host_pair;
    m.udp = udp;
    m.candidate = !(s.flags & tcp::flag_fin) && s.ip_options.empty() && s.csum != Csum::zero;
    m.bad = s.csum == Csum::bad || s.bad_ip_csum;
    m.psh = (s.flags & tcp::flag_psh) != 0;
    m.ack = udp ? 0 : s.ack;
    m.seq = s.seq;
    m.payload = len;
    m.header_len = header_len(s);
    m.ttl = s.ttl;
    f.next.seq = s.seq + static_cast<std::uint32_t>(len);
    ++f.next.id;
    const Bytes out = build(s);
    s.csum = s.csum == Csum::bad ? Csum::valid : s.csum;
    s.bad_ip_csum = false;
    fixed = build(s);
    return out;
}

// The rules of gro.hpp, applied with a scan over every item so far.
struct Model {
    struct Item {
        bool keyed = false, open = false, head_bad = false;
        int flow = 0, host_pair = 0;
        std::uint32_t ack = 0, first_seq = 0;
        std::size_t gso = 0, payload = 0, header_len = 0;
        std::uint8_t ttl = 0;
        std::vector<std::uint32_t> members;
    };

    GroParams params;
    std::vector<Item> items;
    bool refusing = false;

    // The item index, or nullopt when refused.
    std::optional<std::uint32_t> add(const Meta& m, std::uint32_t tag) {
        if (refusing) return std::nullopt;
        const bool candidate = m.candidate && (!m.udp || params.udp);
        if (!candidate) {
            for (Item& it : items)
                if (it.keyed && it.host_pair == m.host_pair) it.open = false;
            return start(m, tag, false, false);
        }
        bool open = !m.psh;
        Item* newest = nullptr;
        for (Item& it : items)
            if (it.keyed && it.flow == m.flow && it.ack == m.ack) newest = &it;
        if (newest != nullptr && fits(*newest, m)) {
            if (params.verify_checksums && newest->head_bad) {
                newest->open = false;
            } else if (params.verify_checksums && m.bad) {
                open = false;
            } else {
                newest->members.push_back(tag);
                newest->payload += m.payload;
                if (m.psh || m.payload < newest->gso) newest->open = false;
                return static_cast<std::uint32_t>(newest - items.data());
            }
        }
        return start(m, tag, true, open);
    }

    bool fits(const Item& it, const Meta& m) const {
        return it.open && m.payload <= it.gso && it.members.size() < params.max_segments &&
               it.header_len + it.payload + m.payload <= 65535 &&
               (m.udp || m.seq == it.first_seq + it.payload) && m.ttl == it.ttl;
    }

    std::optional<std::uint32_t> start(const Meta& m, std::uint32_t tag, bool keyed, bool open) {
        if (items.size() == params.max_flows) {
            refusing = true;
            return std::nullopt;
        }
        Item it;
        it.keyed = keyed;
        it.open = open;
        it.head_bad = m.bad;
        it.flow = m.flow;
        it.host_pair = m.host_pair;
        it.ack = m.ack;
        it.first_seq = m.seq;
        it.gso = it.payload = m.payload;
        it.header_len = m.header_len;
        it.ttl = m.ttl;
        it.members = {tag};
        items.push_back(it);
        return static_cast<std::uint32_t>(items.size() - 1);
    }
};

// What the batches exercised, so that the test shows it covers what it claims.
struct Coverage {
    std::size_t merged_items = 0, merged_packets = 0, refused = 0, full_items = 0;
    std::size_t merged_udp = 0, merged_v6 = 0, over_60k = 0;
};

void run_batch(std::mt19937& rng, const GroParams& params, Coverage& cov) {
    std::vector<Flow> flows = make_flows(rng);
    const std::size_t n = 1 + rng() % 300;
    // A third of the batches are mostly one flow, so that items can reach the caps.
    const bool focused = rng() % 3 == 0;
    const std::size_t focus = rng() % flows.size();
    static const unsigned calm_choices[] = {100, 300, 1500};
    const unsigned calm = calm_choices[rng() % 3];
    std::vector<Bytes> packets(n), originals(n), fixed(n);
    GroTable table(params);
    Model model{params, {}, false};
    for (std::size_t k = 0; k < n; ++k) {
        const int f = static_cast<int>(focused && rng() % 8 != 0 ? focus : rng() % flows.size());
        Meta m;
        packets[k] = next_packet(rng, calm, flows[static_cast<std::size_t>(f)], f, m, fixed[k]);
        originals[k] = packets[k];
        const auto tag = static_cast<std::uint32_t>(k);
        const auto index = table.add(packets[k], tag);
        REQUIRE(index == model.add(m, tag));
        cov.refused += index ? 0 : 1;
    }
    table.finish();
    REQUIRE(table.size() == model.items.size());
    for (std::uint32_t i = 0; i < table.size(); ++i) {
        const GroTable::Item item = table.item(i);
        const std::vector<std::uint32_t> tags(item.tags.begin(), item.tags.end());
        REQUIRE(tags == model.items[i].members);
        const Bytes written = join(item);
        if (tags.size() == 1) {
            REQUIRE(item.hdr == VirtioNetHdr{});
            REQUIRE(written == originals[tags[0]]);
            continue;
        }
        // Split again: the packets that went in (with checksums recomputed where verification
        // was off and a bad one was merged).
        ++cov.merged_items;
        cov.merged_packets += tags.size();
        cov.full_items += tags.size() == params.max_segments ? 1 : 0;
        cov.merged_udp += item.hdr.gso_type == gso_udp_l4 ? 1 : 0;
        cov.merged_v6 += ip_version(originals[tags[0]].data()) == 6 ? 1 : 0;
        cov.over_60k += written.size() > 60000 ? 1 : 0;
        const auto segs = split_all(item.hdr, written, params.max_segments);
        REQUIRE(segs.size() == tags.size());
        for (std::size_t k = 0; k < segs.size(); ++k)
            REQUIRE(segs[k] == fixed[tags[k]]);
    }
}

}  // namespace

TEST_CASE("gro random: groups as the reference model, and every item splits back") {
    std::mt19937 rng(20240607);
    const GroParams variants[] = {
        {.max_flows = 256, .max_segments = 64, .udp = true, .verify_checksums = true},
        {.max_flows = 256, .max_segments = 64, .udp = false, .verify_checksums = true},
        {.max_flows = 256, .max_segments = 5, .udp = true, .verify_checksums = false},
        {.max_flows = 6, .max_segments = 64, .udp = true, .verify_checksums = true},
    };
    for (const GroParams& p : variants) {
        Coverage cov;
        for (int batch = 0; batch < 400; ++batch)
            run_batch(rng, p, cov);
        MESSAGE("merged items ", cov.merged_items, " of ", cov.merged_packets, " packets (UDP ",
                cov.merged_udp, ", IPv6 ", cov.merged_v6, "), at max_segments ", cov.full_items,
                ", over 60000 bytes ", cov.over_60k, ", refused ", cov.refused);
        CHECK(cov.merged_items > 500);
        CHECK(cov.merged_v6 > 100);
        CHECK((cov.merged_udp > 100) == p.udp);
        CHECK(cov.full_items > 10);
        if (p.max_segments == 64) CHECK(cov.over_60k > 10);
        CHECK((cov.refused > 100) == (p.max_flows < 10));
    }
}
