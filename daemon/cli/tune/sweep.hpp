// `ringtun tune`'s sweep: each point of the plan measured in the lab, in order, until the
// plan is done, the budget runs out or a signal asks to stop; progress on standard error.
#pragma once

#include <chrono>
#include <vector>

#include "daemon/cli/tune/choice.hpp"
#include "daemon/cli/tune/lab.hpp"
#include "daemon/cli/tune/plan.hpp"

namespace ringtun::daemon::tune {

struct SweepResult {
    std::vector<Outcome> outcomes;  // one per point of the plan, in its order
    std::size_t measured = 0;
    bool budget_ran_out = false;
};

// The order: the planned points, then the spares by priority, then the repeat of the
// defaults. A point starts only if it can end before `deadline`, judged by the longest point
// so far (the plan's estimate before the first); a spare only if the repeat still fits after
// it. Those that do not, and those after a Ctrl-C, are skipped with that reason. A point
// whose daemons do not start or whose measurement fails is recorded with the error, and the
// sweep goes on.
SweepResult run_sweep(Lab& lab, const Plan& plan, std::chrono::steady_clock::time_point deadline);

}  // namespace ringtun::daemon::tune
