#include "daemon/cli/tune/measure.hpp"

namespace ringtun::daemon::tune {

util::Result<Figures> measure_point(const Lab& lab, const Timing& t) {
    Figures f;
    auto rtt = measure_rtt(lab, t);
    if (!rtt) return util::fail(rtt.error());
    f.rtt_us = *rtt;
    auto stream = measure_stream(lab, t);
    if (!stream) return util::fail(stream.error());
    f.gbit_s = stream->gbit_s;
    f.cpu_s_per_gb = stream->cpu_s_per_gb;
    auto capacity = measure_capacity(lab, t);
    if (!capacity) return util::fail(capacity.error());
    f.capacity_kpps = *capacity;
    return f;
}

}  // namespace ringtun::daemon::tune
