// `ringtun tune`'s verdict without a host: the rule choosing among measured points (fastest,
// CPU per GB breaking ties, capacity and latency guarding, the defaults kept unless beaten
// by the margin or the noise), and the capacity search against simulated tunnels.
#include "daemon/cli/tune/choice.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>

#include "daemon/cli/tune/rate_search.hpp"

using namespace ringtun;
using namespace ringtun::daemon::tune;

namespace {

Outcome measured(const char* name, double gbit, double cpu, double kpps = 100, double rtt = 50) {
    Outcome o;
    if (std::string(name) == "defaults") {
        o.point.defaults = true;
    } else if (std::string(name) == "again") {
        o.point.defaults = true;
        o.point.repeat = true;
    } else {
        o.point.ring.tx_slots = static_cast<std::uint32_t>(std::stoul(name));
    }
    o.figures = Figures{gbit, cpu, kpps, rtt};
    return o;
}

Outcome skipped(const char* why) {
    Outcome o;
    o.point.ring.entries = 512;
    o.point.skip = why;
    return o;
}

}  // namespace

TEST_CASE("without the defaults measured there is nothing to recommend") {
    std::vector<Outcome> v = {measured("1024", 3, 2), skipped("refused")};
    CHECK(!choose(v).has_value());
}

TEST_CASE("the defaults stay when nothing beats them by the margin") {
    std::vector<Outcome> v = {measured("defaults", 3.0, 2.0), measured("1024", 3.05, 1.98),
                              measured("256", 2.5, 1.5)};
    const auto c = choose(v);
    REQUIRE(c);
    CHECK(c->keep_defaults);
    CHECK(c->best == 0);
    CHECK(c->margin == doctest::Approx(0.03));
    CHECK(c->noise.gbit_s == 0);  // one run of the defaults: no spread known
    CHECK(c->why.find("no point was faster") == 0);
    CHECK(v[1].note.empty());
}

TEST_CASE("the fastest point wins when it beats the defaults by more than the margin") {
    std::vector<Outcome> v = {measured("defaults", 3.0, 2.0), measured("1024", 3.4, 2.2),
                              measured("256", 3.1, 1.9)};
    const auto c = choose(v);
    REQUIRE(c);
    CHECK(!c->keep_defaults);
    CHECK(c->best == 1);
    CHECK(v[1].note == "recommended");
    CHECK(c->why.find("+13.3% over the defaults") != std::string::npos);
}

TEST_CASE("within the tie of the fastest, the lower CPU per GB wins") {
    std::vector<Outcome> v = {measured("defaults", 3.0, 2.0), measured("1024", 3.40, 2.2),
                              measured("2048", 3.35, 1.8)};
    const auto c = choose(v);
    REQUIRE(c);
    CHECK(c->best == 2);
}

TEST_CASE("as fast as the defaults but clearly cheaper wins; barely cheaper does not") {
    std::vector<Outcome> v = {measured("defaults", 3.0, 2.0), measured("1024", 2.95, 1.7)};
    auto c = choose(v);
    REQUIRE(c);
    CHECK(!c->keep_defaults);
    CHECK(c->best == 1);
    CHECK(c->why.find("as fast as the defaults") == 0);
    v = {measured("defaults", 3.0, 2.0), measured("1024", 2.95, 1.97)};
    c = choose(v);
    REQUIRE(c);
    CHECK(c->keep_defaults);
}

TEST_CASE("a point costing small-packet capacity or latency is not eligible") {
    std::vector<Outcome> v = {
        measured("defaults", 3.0, 2.0, 100, 50), measured("1024", 4.0, 1.0, 80, 50),
        measured("2048", 4.0, 1.0, 100, 70), measured("256", 3.2, 2.0, 95, 60)};
    const auto c = choose(v);
    REQUIRE(c);
    CHECK(v[1].note == "ineligible: capacity -20.0% against the defaults");
    CHECK(v[2].note == "ineligible: RTT +40.0% against the defaults");
    CHECK(c->best == 3);
    CHECK(v[3].note == "recommended");
}

TEST_CASE("two runs of the defaults: their mean is the baseline and their spread the margin") {
    std::vector<Outcome> v = {measured("defaults", 3.0, 2.0), measured("1024", 3.3, 2.0),
                              measured("again", 2.6, 2.2)};
    const auto c = choose(v);
    REQUIRE(c);
    CHECK(c->baseline.gbit_s == doctest::Approx(2.8));
    CHECK(c->baseline.cpu_s_per_gb == doctest::Approx(2.1));
    CHECK(c->noise.gbit_s == doctest::Approx(0.4 / 2.8));
    CHECK(c->noise.cpu_s_per_gb == doctest::Approx(0.2 / 2.1));
    CHECK(c->noise.capacity_kpps == 0);
    CHECK(c->margin == doctest::Approx(0.4 / 2.8));
    // 3.3 is 17.9% over 2.8: more than the noise of 14.3%.
    CHECK(!c->keep_defaults);
    CHECK(c->best == 1);
    v[1].figures->gbit_s = 3.1;  // 10.7% over: within the noise
    CHECK(choose(v)->keep_defaults);
}

TEST_CASE("the capacity and latency bounds widen to the defaults' own spread") {
    // The defaults' runs differ by 40% in capacity (120 and 80) and 50% in RTT (40 and 66.7).
    std::vector<Outcome> v = {
        measured("defaults", 3.0, 2.0, 120, 40), measured("1024", 3.5, 2.0, 75, 60),
        measured("2048", 3.6, 2.0, 55, 90), measured("again", 3.0, 2.0, 80, 200.0 / 3)};
    const auto c = choose(v);
    REQUIRE(c);
    CHECK(c->noise.capacity_kpps == doctest::Approx(0.4));
    CHECK(c->noise.rtt_us == doctest::Approx(0.5));
    // 75 is within 40% of 100, 60 within 50% of 53.3; 55 is not, nor 90.
    CHECK(v[1].note == "recommended");
    CHECK(v[2].note == "ineligible: capacity -45.0%, RTT +68.8% against the defaults");
}

TEST_CASE("percent") {
    CHECK(percent(3.3, 3.0) == "+10.0%");
    CHECK(percent(2.7, 3.0) == "-10.0%");
    CHECK(percent(1, 0) == "n/a");
}

namespace {

// A tunnel that carries up to `capacity` packets a second and loses the rest; a sender that
// reaches at most `sender` a second flat out.
double search(double capacity, double sender, unsigned steps = 4) {
    RateSearch s;
    for (unsigned i = 0; i < steps && !s.done(); ++i) {
        const double offered = s.next() == 0 ? sender : std::min(s.next(), sender);
        const auto sent = static_cast<std::uint64_t>(offered);
        const auto received = static_cast<std::uint64_t>(std::min(offered, capacity));
        s.record(sent, received, 1.0);
    }
    return s.best();
}

}  // namespace

TEST_CASE("the capacity search: below what arrived flat out, within a few steps") {
    RateSearch s;
    CHECK(s.next() == 0);  // flat out first
    s.record(1'000'000, 200'000, 1.0);
    CHECK(!s.done());
    CHECK(s.next() == doctest::Approx(180'000));
    s.record(180'000, 180'000, 1.0);
    CHECK(s.best() == doctest::Approx(180'000));
    CHECK(s.next() == doctest::Approx((180'000 + 240'000) / 2.0));  // up to 1.2 x delivered
    s.record(210'000, 200'000, 1.0);
    CHECK(s.best() == doctest::Approx(180'000));
    CHECK(s.next() == doctest::Approx(195'000));
    // Against simulated tunnels: never above the capacity, within 15% of it.
    for (double capacity : {5'000.0, 90'000.0, 300'000.0, 1'500'000.0}) {
        CAPTURE(capacity);
        const double best = search(capacity, 2'000'000);
        CHECK(best <= capacity);
        CHECK(best >= 0.85 * capacity);
    }
}

TEST_CASE("the capacity search: a sender slower than the tunnel ends it at once") {
    RateSearch s;
    s.record(100'000, 100'000, 1.0);
    CHECK(s.done());
    CHECK(s.best() == doctest::Approx(100'000));
    CHECK(search(1'000'000, 300'000) == doctest::Approx(300'000));
}

TEST_CASE("the capacity search: nothing through, and losses at every rate") {
    RateSearch s;
    s.record(100'000, 0, 1.0);
    CHECK(s.next() == doctest::Approx(1000));  // never flat out again
    s.record(1000, 0, 1.0);
    CHECK(s.next() == doctest::Approx(1000));
    CHECK(s.best() == 0);
}
