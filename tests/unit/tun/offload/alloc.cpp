// The offload code allocates nothing after construction: GroTable::add/finish/item/clear,
// plan_split, write_segment and finish_checksum, counted through a replaced operator new
// (as tests/unit/crypto/alloc does). Counting is off except around the calls under test.
#include <doctest/doctest.h>

#include "tests/unit/alloc_counter.hpp"
#include "tests/unit/tun/offload/packets.hpp"
#include "tun/gro.hpp"
#include "tun/gso_split.hpp"

using namespace ringtun::test::alloc;
using namespace ringtun::tun;
using namespace ringtun::test;

TEST_CASE("offload: batches through GroTable and splits allocate nothing") {
    // 200 packets of 4 flows, TCP and UDP over both IP versions, built beforehand.
    std::vector<Bytes> packets;
    for (int i = 0; i < 200; ++i) {
        Spec s;
        s.version = i % 2 ? 6 : 4;
        s.proto = i % 4 >= 2 ? proto_udp : proto_tcp;
        s.seq = 1000 + static_cast<std::uint32_t>(i / 4) * 1200;
        s.id = static_cast<std::uint16_t>(i / 4);
        s.payload = payload_bytes(1200, static_cast<std::uint32_t>(i));
        packets.push_back(build(s));
    }
    Spec super;
    super.payload = payload_bytes(60000, 1);
    super.csum = Csum::pseudo;
    Bytes super_packet = build(super);
    const VirtioNetHdr super_hdr = gso_header(super, 1448);
    Bytes segment(2000);
    GroTable table({.udp = true});
    std::vector<Bytes> work(packets);
    std::size_t merged = 0, written = 0;
    bool split_ok = true;

    allocations = 0;
    counting = true;
    for (int round = 0; round < 50; ++round) {
        for (std::size_t k = 0; k < work.size(); ++k) {
            std::copy(packets[k].begin(), packets[k].end(), work[k].begin());
            (void)table.add(work[k], static_cast<std::uint32_t>(k));
        }
        table.finish();
        for (std::uint32_t i = 0; i < table.size(); ++i)
            merged += table.item(i).pieces.size();
        table.clear();
        const auto plan = plan_split(super_hdr, super_packet, 64);
        split_ok = split_ok && plan.has_value();
        for (std::size_t i = 0; plan && i < plan->segments; ++i)
            written += write_segment(*plan, super_packet, i, segment);
        VirtioNetHdr none = super_hdr;
        none.gso_type = gso_none;
        split_ok = split_ok && finish_checksum(none, super_packet);
    }
    counting = false;
    CHECK(allocations == 0);
    CHECK(split_ok);
    CHECK(merged == 50 * packets.size());
    CHECK(written > 50 * 60000);
}
