// `ringtun tune`'s plan without a host: the points varied from each kind of defaults, and the
// points and timings fitted into budgets from the smallest allowed to an hour.
#include "daemon/cli/tune/plan.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>

using namespace ringtun;
using namespace ringtun::daemon::tune;

namespace {

std::vector<std::string> labels(const std::vector<Point>& points) {
    std::vector<std::string> out;
    for (const Point& p : points)
        out.push_back(label(p));
    return out;
}

bool has(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

const Point& find(const std::vector<Point>& points, const std::string& name) {
    const auto it = std::find_if(points.begin(), points.end(),
                                 [&](const Point& p) { return label(p) == name; });
    REQUIRE(it != points.end());
    return *it;
}

}  // namespace

TEST_CASE("ring_lines: the keys a section sets, as TOML, in ringtun.toml(5)'s order") {
    conf::RingTunables r;
    CHECK(ring_lines(r).empty());
    r.backend = conf::Backend::epoll;
    r.tun_read = conf::TunRead::slots;
    r.tun_rx_slots = 8;
    r.tun_blocking = false;
    r.sqpoll_idle_ms = 50;
    const std::vector<std::string> want = {"backend = \"epoll\"", "tun_read = \"slots\"",
                                           "tun_rx_slots = 8", "tun_blocking = false",
                                           "sqpoll_idle_ms = 50"};
    CHECK(ring_lines(r) == want);
    Point p;
    p.ring = r;
    CHECK(label(p) ==
          "backend = \"epoll\", tun_read = \"slots\", tun_rx_slots = 8, tun_blocking = false, "
          "sqpoll_idle_ms = 50");
}

TEST_CASE("io_uring with multishot: every key varied alone, the defaults first and last") {
    const std::vector<Point> points = candidate_points(Defaults{});
    const std::vector<std::string> l = labels(points);
    REQUIRE(points.size() == 15);
    CHECK(points.front().defaults);
    CHECK(!points.front().repeat);
    CHECK(l.front() == "defaults");
    CHECK(points.back().defaults);
    CHECK(points.back().repeat);
    CHECK(l.back() == "defaults (again)");
    for (const char* want :
         {"backend = \"epoll\"", "tun_read = \"slots\"", "tun_read = \"slots\", tun_rx_slots = 8",
          "tun_read = \"slots\", tun_rx_slots = 128", "entries = 512", "entries = 4096",
          "tun_blocking = true", "sqpoll_idle_ms = 50", "udp_rx_slots = 64", "udp_rx_slots = 256",
          "udp_rx_slots = 1024", "tx_slots = 256", "tx_slots = 1024"})
        CHECK_MESSAGE(has(l, want), want);
    // The defaults' own values are not points of their own.
    CHECK(!has(l, "entries = 1024"));
    CHECK(!has(l, "tx_slots = 512"));
    CHECK(!has(l, "tun_blocking = false"));
    for (const Point& p : points)
        CHECK(p.skip.empty());
}

TEST_CASE("io_uring with slots (before Linux 6.7): multishot tried, slot counts alone") {
    Defaults d;
    d.tun_read_multishot = false;
    d.tun_blocking = true;
    const std::vector<std::string> l = labels(candidate_points(d));
    CHECK(has(l, "tun_read = \"multishot\""));
    CHECK(has(l, "tun_rx_slots = 8"));
    CHECK(has(l, "tun_rx_slots = 128"));
    CHECK(has(l, "tun_blocking = false"));
    CHECK(!has(l, "tun_read = \"slots\""));
}

TEST_CASE("epoll by default: io_uring's keys skipped as without effect, io_uring tried") {
    Defaults d;
    d.epoll = true;
    const std::vector<Point> points = candidate_points(d);
    CHECK(find(points, "backend = \"io_uring\"").skip.empty());
    CHECK(find(points, "tx_slots = 1024").skip.empty());
    CHECK(find(points, "udp_rx_slots = 256").skip.empty());
    for (const char* name :
         {"tun_read = \"slots\"", "entries = 4096", "sqpoll_idle_ms = 50", "tun_blocking = true"})
        CHECK(find(points, name).skip.find("no effect on the epoll backend") == 0);
}

TEST_CASE("a large budget takes every point, with measurements lengthened to a cap") {
    const Plan plan = plan_sweep(candidate_points(Defaults{}), 3600);
    CHECK(plan.runnable() == 15);
    CHECK(plan.spares() == 0);
    CHECK(plan.timing.throughput_s == doctest::Approx(6));
    CHECK(plan.timing.capacity_steps >= 3);
    CHECK(plan.estimate_s() < 3600);
}

TEST_CASE("the default budget takes every point and fits") {
    const Plan plan = plan_sweep(candidate_points(Defaults{}), 180);
    CHECK(plan.runnable() == 15);
    CHECK(plan.estimate_s() <= 180.0 + 1e-9);
    CHECK(plan.timing.throughput_s > 2);
}

TEST_CASE("a small budget keeps the points that matter most; the rest are spares") {
    const Plan plan = plan_sweep(candidate_points(Defaults{}), 40);
    CHECK(plan.estimate_s() <= 40.0 + 1e-9);
    CHECK(plan.runnable() >= 3);
    CHECK(plan.spares() == 15 - plan.runnable());
    CHECK(!find(plan.points, "defaults").spare);
    CHECK(!find(plan.points, "defaults (again)").spare);
    CHECK(!find(plan.points, "backend = \"epoll\"").spare);
    CHECK(find(plan.points, "tun_read = \"slots\", tun_rx_slots = 8").spare);
    CHECK(find(plan.points, "udp_rx_slots = 64").spare);
    CHECK(plan.timing.throughput_s >= 1.0);
}

TEST_CASE("every budget from the minimum up: the planned points fit in it") {
    for (double budget = minimum_budget_s(); budget <= 900; budget += 7) {
        CAPTURE(budget);
        const Plan plan = plan_sweep(candidate_points(Defaults{}), budget);
        CHECK(plan.estimate_s() <= budget + 1e-9);
        CHECK(plan.runnable() >= 3);  // the defaults twice and one other point at least
        CHECK(plan.runnable() + plan.spares() == 15);
        CHECK(plan.timing.point_s() > 0);
    }
}

TEST_CASE("points skipped before planning stay skipped and cost nothing") {
    std::vector<Point> points = candidate_points(Defaults{});
    for (Point& p : points)
        if (!p.defaults) p.skip = "refused here";
    const Plan plan = plan_sweep(points, 60);
    CHECK(plan.runnable() == 2);
    CHECK(plan.spares() == 0);
    CHECK(find(plan.points, "tx_slots = 1024").skip == "refused here");
}
