// `ringtun tune [--budget SECONDS] [--csv PATH] [--svg PATH]`: sweeps the [ring] tunables on
// this host with ringtun's own traffic between two namespaces it makes and removes, and
// recommends the [ring] section for this kernel. The parts: plan (which points, how long),
// lab (namespaces, veth, daemons), measure (stream, capacity, latency), sweep (the loop),
// choice (the verdict), report, csv and svg (the output).
#pragma once

#include <string>

namespace ringtun::daemon::tune {

struct Options {
    double budget_s = 180;  // the whole run, lab included
    std::string csv = "ringtun-tune.csv";
    std::string svg = "ringtun-tune.svg";
};

// Exit status: 0 done (also when the budget ended the sweep early), 1 an error (not root,
// the lab could not be made, the defaults could not be measured), 128 + N after signal N.
int tune_command(const Options& options);

}  // namespace ringtun::daemon::tune
