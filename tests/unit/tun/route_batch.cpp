// tun::add_routes's reading of the kernel's answers (sans-IO): only errors and each batch's
// last request are answered, so a request is known to be added only once the last one's
// answer is in; until then (a receive that fails first) it stays route_unknown.
#include "tun/route_batch.hpp"

#include <doctest/doctest.h>
#include <linux/netlink.h>

#include <cerrno>
#include <cstring>
#include <vector>

using namespace ringtun::tun;

namespace {

// Appends an NLMSG_ERROR answer to request `seq` with `error` (0: the acknowledgement).
void answer(std::vector<char>& datagram, std::uint32_t seq, int error) {
    const std::size_t at = datagram.size();
    datagram.resize(at + NLMSG_ALIGN(NLMSG_LENGTH(sizeof(nlmsgerr))));
    nlmsghdr h{};
    h.nlmsg_len = NLMSG_LENGTH(sizeof(nlmsgerr));
    h.nlmsg_type = NLMSG_ERROR;
    h.nlmsg_seq = seq;
    nlmsgerr e{};
    e.error = -error;
    std::memcpy(datagram.data() + at, &h, sizeof h);
    std::memcpy(datagram.data() + at + NLMSG_HDRLEN, &e, sizeof e);
}

}  // namespace

TEST_CASE("route answers: errors recorded, the rest unknown until the last request's answer") {
    std::vector<int> outcomes(8, route_unknown);  // requests 11..18
    std::vector<char> errors;
    answer(errors, 12, EEXIST);
    answer(errors, 15, EINVAL);
    answer(errors, 3, EPERM);  // another batch's: ignored
    CHECK_FALSE(detail::read_answers(errors, 11, 18, outcomes));
    CHECK(outcomes == std::vector<int>{route_unknown, EEXIST, route_unknown, route_unknown, EINVAL,
                                       route_unknown, route_unknown, route_unknown});
    // A receive failing now leaves the unanswered ones unknown: they may have been added.
    std::vector<char> last;
    answer(last, 17, ENETUNREACH);
    answer(last, 18, 0);
    CHECK(detail::read_answers(last, 11, 18, outcomes));
    CHECK(outcomes == std::vector<int>{0, EEXIST, 0, 0, EINVAL, 0, ENETUNREACH, 0});
}

TEST_CASE("route answers: a truncated or short message is not read past") {
    std::vector<int> outcomes(2, route_unknown);
    std::vector<char> d;
    answer(d, 1, EEXIST);
    answer(d, 2, 0);
    d.resize(d.size() - 4);  // the acknowledgement cut short
    CHECK_FALSE(detail::read_answers(d, 1, 2, outcomes));
    CHECK(outcomes == std::vector<int>{EEXIST, route_unknown});
}
