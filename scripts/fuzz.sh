#!/usr/bin/env bash
# A fuzzing campaign: builds build-fuzz/ (scripts/build.sh --fuzz) and runs each libFuzzer
# target for DURATION seconds on its persistent corpus, then prints per target the executions,
# executions per second, coverage (libFuzzer's cov: edges and ft: features), corpus size and
# crashes. Exits 1 if any target crashed; the crashing input stays in
# build-fuzz/tests/fuzz/artifacts/ (rerun it: build-fuzz/tests/fuzz/NAME_fuzz FILE).
#
# Usage: scripts/fuzz.sh [DURATION] [TARGET[:SECONDS]...]
#        scripts/fuzz.sh --report [TARGET...]   (the table of the last run, from its logs)
#   DURATION   seconds per target (default 600)
#   TARGET     the targets to run (default: all of tests/fuzz/*_fuzz.cpp); TARGET:SECONDS
#              gives that one its own duration
# Environment: FUZZ_RUNS=N also stops a target after N executions (a campaign of N each, the
# durations then only caps). FUZZ_JOBS targets at once (default: the number of CPUs). Each target is one
# libFuzzer process on one core: running targets side by side uses every core with no fork
# or merge overhead (-fork/-jobs would restart processes and merge corpora), and keeps each
# target's figures those of one process. Run it under `nice` to leave the machine usable.
#
# Corpus: build-fuzz/tests/fuzz/corpus/NAME (kept between runs, shared with CTest's fuzz.*),
# started from the seeds in tests/fuzz/seeds/NAME. Logs: build-fuzz/tests/fuzz/logs/NAME.log.
# Ctrl-C (or SIGTERM) ends the campaign early: the running targets stop, the others do not
# start, and the table shows what ran (a stopped target's row says "stopped").
set -euo pipefail
cd "$(dirname "$0")/.."

duration=600
report_only=0
if [ "${1:-}" = --report ]; then
  report_only=1
  shift
elif [[ "${1:-}" =~ ^[0-9]+$ ]]; then
  duration=$1
  shift
fi
case "${1:-}" in
  -h | --help)
    sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 0
    ;;
esac
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in tests/fuzz/*_fuzz.cpp; do
    f=${f##*/}
    targets+=("${f%_fuzz.cpp}")
  done
fi

if [ "$report_only" = 1 ]; then
  dir=build-fuzz
else
  dir=$(scripts/build.sh --fuzz | tail -n 1)
fi
out=$dir/tests/fuzz
mkdir -p "$out/logs" "$out/artifacts"
jobs=${FUZZ_JOBS:-$(nproc)}

run_target() {
  local name=$1 seconds=$2 rc=0
  mkdir -p "$out/corpus/$name"
  rm -f "$out/logs/$name.exit"
  # -timeout: one input taking 10 s is a hang; -rss_limit_mb: room for ASan's quarantine.
  "$out/${name}_fuzz" -max_total_time="$seconds" ${FUZZ_RUNS:+-runs=$FUZZ_RUNS} \
    -timeout=10 -rss_limit_mb=4096 \
    -print_final_stats=1 -artifact_prefix="$out/artifacts/$name-" \
    "$out/corpus/$name" "tests/fuzz/seeds/$name" >"$out/logs/$name.log" 2>&1 &
  echo $! >"$out/logs/$name.pid"
  wait $! || rc=$?
  echo "$rc" >"$out/logs/$name.exit"
}

# Ctrl-C or SIGTERM: stop the running targets (libFuzzer prints its figures and exits 72).
stopping=0
stop() {
  stopping=1
  for t in "${targets[@]}"; do
    pidfile=$out/logs/${t%%:*}.pid
    [ -f "$pidfile" ] && kill -TERM "$(cat "$pidfile")" 2>/dev/null || true
  done
}
trap stop INT TERM
started=$out/logs/.started
[ "$report_only" = 1 ] || touch "$started"

[ "$report_only" = 1 ] || echo "fuzz.sh: ${#targets[@]} targets, $jobs at a time, ${duration} s each unless named" >&2
for t in "${targets[@]}"; do
  [ "$report_only" = 0 ] || break
  name=${t%%:*}
  seconds=$duration
  [[ "$t" == *:* ]] && seconds=${t#*:}
  [ -x "$out/${name}_fuzz" ] || { echo "fuzz.sh: no target $name" >&2; exit 2; }
  while [ "$stopping" = 0 ] && [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  [ "$stopping" = 0 ] || break
  rm -f "$out/logs/$name.pid"
  echo "fuzz.sh: $name for $seconds s" >&2
  run_target "$name" "$seconds" &
done
while [ -n "$(jobs -rp)" ]; do wait || true; done
trap - INT TERM

# The last status line libFuzzer printed (DONE, or the last pulse/NEW before a crash).
field() { grep -Eo "$1: [0-9]+" <<<"$2" | tail -n 1 | awk '{print $2}'; }
crashed=0
printf 'started %s, %s, commit %s\n' "$(date -u -r "$started" '+%Y-%m-%d %H:%M UTC')" \
  "$(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" \
  "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
printf '| %-11s | %13s | %7s | %6s | %6s | %14s | %7s |\n' target executions exec/s cov ft corpus crashes
printf '|%s|%s|%s|%s|%s|%s|%s|\n' ------------- ---------------: --------: -------: -------: \
  ---------------: --------:
for t in "${targets[@]}"; do
  name=${t%%:*}
  log=$out/logs/$name.log
  [ -f "$out/logs/$name.exit" ] || continue  # not started
  status=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
  execs=$(grep -Eo 'stat::number_of_executed_units: [0-9]+' "$log" | awk '{print $2}')
  rate=$(grep -Eo 'stat::average_exec_per_sec: +[0-9]+' "$log" | awk '{print $2}')
  # libFuzzer's corpus: the inputs it keeps for their coverage, and their total size.
  corpus=$(grep -Eo 'corp: [0-9]+/[0-9]+[a-zA-Z]*' <<<"$status" | tail -n 1 | cut -d' ' -f2)
  # Crashes, leaks, timeouts and out-of-memory inputs this run saved.
  crashes=$(find "$out/artifacts" -name "$name-*" -newer "$started" | wc -l)
  rc=$(cat "$out/logs/$name.exit")
  if [ "$crashes" != 0 ] || { [ "$rc" != 0 ] && [ "$rc" != 72 ]; }; then
    crashed=1
  elif [ "$rc" = 72 ]; then
    crashes=stopped
  fi
  printf '| %-11s | %13s | %7s | %6s | %6s | %14s | %7s |\n' "$name" "${execs:-?}" \
    "${rate:-?}" "$(field cov "$status")" "$(field ft "$status")" "${corpus:-?}" \
    "$crashes"
done
if [ "$crashed" != 0 ]; then
  echo "fuzz.sh: a target crashed; see $out/logs/ and the inputs in $out/artifacts/" >&2
  exit 1
fi
