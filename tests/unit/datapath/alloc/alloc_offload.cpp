// Counts every heap allocation, C++ (operator new) and OpenSSL (CRYPTO_malloc), while offloaded
// traffic crosses two real Datapaths both ways: TSO and USO super-packets split into transmit
// slots and sealed, sent as UDP GSO batches, received as UDP GRO datagrams, opened in place,
// coalesced per flow and written to the TUN. Once warm, the data path must make none.
//
// Its own executable because OpenSSL's allocator hooks can only be installed before OpenSSL
// allocates anything.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "tests/unit/alloc_counter_main.hpp"
#include "tests/unit/datapath/datapath_pair.hpp"

using namespace ringtun::test::alloc;
using namespace ringtun;
using namespace ringtun::test;

namespace {

// One loop turn each way: `from` reads its super-packets, flushes, the sends are delivered
// (completing them), the other side flushes its TUN writes and they complete.
void cross(DatapathPair& p, Node& from, const std::vector<Bytes>& reads) {
    for (const Bytes& r : reads)
        p.tun_read(from, r);
    from.dp.flush();
    Node& to = p.other(from);
    p.deliver(from);
    to.dp.flush();
    p.complete_writes(to);
}

}  // namespace

TEST_CASE("offloaded round trips allocate nothing once warm") {
    auto params = offload_params();
    params.offloads.tun_uso = true;
    DatapathPair p(params, params);
    p.establish();
    p.a.tun.keep_bytes = false;
    p.b.tun.keep_bytes = false;
    const std::vector<Bytes> a_reads = {
        super_read(tcp4(), 40 * 1360, 1360),
        super_read(tcp6(), 30 * 1360 + 77, 1360),
        super_read(udp4(), 10 * 1200 + 5, 1200),
    };
    const Spec back = reversed(tcp4());
    const std::vector<Bytes> b_reads = {super_read(back, 20 * 1000, 1000),
                                        plain_read(flow_packet(back, 0, 40, tcp_ack, 1))};
    const auto round = [&] {
        cross(p, p.a, a_reads);
        cross(p, p.b, b_reads);
        p.clear();
    };
    round();  // warm: the peers' first data each way, the UDP GRO table's first flows
    const auto written_before = p.b.dp.tun_writes().counters().packets;
    const auto a_written_before = p.a.dp.tun_writes().counters().packets;

    constexpr int rounds = 200;
    allocations = 0;
    counting = true;
    for (int i = 0; i < rounds; ++i)
        round();
    counting = false;

    CHECK(allocations.load() == 0);
    CHECK(p.b.dp.tun_writes().counters().packets - written_before == rounds * (40 + 31 + 11));
    CHECK(p.a.dp.tun_writes().counters().packets - a_written_before == rounds * (20 + 1));
    CHECK(p.b.dp.tun_writes().counters().coalesced > 0);
    CHECK(p.a.counters().udp_gso_batches > 0);
    CHECK(p.b.counters().udp_rx_coalesced > 0);
    for (const Node* n : {&p.a, &p.b}) {
        CHECK(n->tun.buffers.lent_count() == 0);
        CHECK(n->net.rx.lent_count() == 0);
        CHECK(n->dp.slots().in_use() == 0);
        CHECK(n->device->counters().drops.total() == 0);
    }
}

TEST_CASE("the counter sees both OpenSSL and C++ allocations") {
    allocations = 0;
    openssl_allocations = 0;
    counting = true;
    {
        DatapathPair p;  // buffers and tables; the handshake makes OpenSSL cipher contexts
        p.establish();
    }
    counting = false;
    CHECK(allocations.load() > openssl_allocations.load());
    CHECK(openssl_allocations.load() > 0);
}
