#!/usr/bin/env bash
# Throughput, latency and CPU cost of each setup in bench/setups.sh, measured between two
# network namespaces joined by veth (tests/netns/lib.sh), with iperf3 and ICMP echo.
#
#   bench/run.sh [--seconds N] [--record] [--only SETUP...]
#
# Per setup: TCP 1 stream A->B, TCP 1 stream B->A (-R), TCP 4 streams A->B (-P 4), each N
# seconds (default 10); ping RTT (average of 20 echoes 0.05 s apart); CPU seconds per GB:
# the whole machine's non-idle CPU time (/proc/stat) during the three iperf3 runs divided
# by the bytes they delivered. "idle load" is the machine's busy cores in the second before
# (the harness waits up to 30 s for one below $BENCH_QUIET_CORES, default 0.25), to show how
# quiet the machine was. Prints a markdown table; --record also appends it, dated, with
# machine, kernel, versions and the command, to docs/BENCHMARKS.md.
#
# Needs root, /dev/net/tun, ip netns, iperf3, wireguard-go, wg (exit 77 otherwise). ringtun
# setups use $RINGTUN (default: build/daemon/ringtun) and are skipped while it has no `run`;
# the -base setups use $RINGTUN_BASELINE, another build to compare with in the same run.
# Each setup runs as its own child process with its own namespaces, removed when it ends.
# shellcheck disable=SC2317  # functions called indirectly: setups, traps
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
source "$repo/bench/setups.sh"

usage() {
  echo "usage: bench/run.sh [--seconds N] [--record] [--only SETUP...]"
  echo "setups:"
  local s
  for s in "${BENCH_SETUPS[@]}"; do printf '  %-12s %s\n' "${s%%|*}" "${s#*|}"; done
}

# Child: measures setup NAME for SECONDS per iperf3 run, writes key=value lines to OUT.
bench_skip() {
  echo "skip=$*" >"$BENCH_OUT"
  netns_skip "$*"
}

# Waits (up to 30 s) for a 1 s window in which the machine is busy with less than
# $BENCH_QUIET_CORES (default 0.25) cores, so other work disturbs the figures less. Prints the
# busy cores of the last window.
bench_quiet() {
  local hz=$1 i t0 t1 busy
  for ((i = 0; i < 30; i++)); do
    t0=$(cpu_busy_ticks)
    sleep 1
    t1=$(cpu_busy_ticks)
    busy=$(awk -v t=$((t1 - t0)) -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }')
    awk -v b="$busy" -v q="${BENCH_QUIET_CORES:-0.25}" 'BEGIN { exit !(b < q) }' && break
  done
  echo "$busy"
}

bench_one() {
  local name=$1 seconds=$2 spec key opts bps bytes t0 t1 ticks=0 total=0 rtt hz idle
  BENCH_OUT=$3
  source "$repo/tests/netns/lib.sh"
  netns_require iperf3 wireguard-go wg
  netns_pair
  "setup_${name//-/_}"
  ping_ok "$NS_A" "$BENCH_DST" 3 15 || netns_fail "$name: no ping reply from $BENCH_DST"
  rtt=$(ping_rtt "$NS_A" "$BENCH_DST" 20 0.05 | kv_get rtt_avg)
  [ -n "$rtt" ] || netns_fail "$name: no RTT"
  iperf3_server "$NS_B"
  hz=$(getconf CLK_TCK)
  idle=$(bench_quiet "$hz")
  local results=("setup=$name" "rtt_ms=$rtt" "idle_cores=$idle")
  for spec in "a2b|" "b2a|-R" "p4|-P 4"; do
    key=${spec%%|*} opts=${spec#*|}
    t0=$(cpu_busy_ticks)
    # shellcheck disable=SC2086
    iperf3_client "$NS_A" "$BENCH_DST" -t "$seconds" $opts >"$NETNS_TMP/$key.json" ||
      netns_fail "$name: iperf3 $opts failed: $(head -c 300 "$NETNS_TMP/$key.json")"
    t1=$(cpu_busy_ticks)
    read -r bps bytes < <(iperf3_field "$NETNS_TMP/$key.json" receiver_bps receiver_bytes)
    [ -n "${bytes:-}" ] || netns_fail "$name: no result from iperf3 $opts"
    results+=("${key}_bps=$bps")
    ticks=$((ticks + t1 - t0)) total=$((total + bytes))
    sleep 1
  done
  results+=("cpu_s_per_gb=$(awk -v t=$ticks -v hz="$hz" -v b=$total \
    'BEGIN { printf "%.2f", (t / hz) / (b / 1e9) }')")
  printf '%s\n' "${results[@]}" >"$BENCH_OUT"
}

if [ "${1:-}" = --one ]; then
  shift
  bench_one "$@"
  exit 0
fi

seconds=10 record=0 only=()
args_text="bench/run.sh${*:+ $*}"
while [ $# -gt 0 ]; do
  case $1 in
    --seconds)
      [[ ${2:-} =~ ^[0-9]+$ ]] && [ "$2" -ge 1 ] && [ "$2" -le 600 ] ||
        { echo "--seconds takes 1..600" >&2; exit 2; }
      seconds=$2
      shift 2
      ;;
    --record) record=1 && shift ;;
    --only)
      shift
      while [ $# -gt 0 ] && [[ $1 != --* ]]; do only+=("$1") && shift; done
      ;;
    -h | --help) usage && exit 0 ;;
    *) usage >&2 && exit 2 ;;
  esac
done

names=()
for s in "${BENCH_SETUPS[@]}"; do names+=("${s%%|*}"); done
if [ ${#only[@]} -gt 0 ]; then
  for s in "${only[@]}"; do
    [[ " ${names[*]} " == *" $s "* ]] || { echo "unknown setup '$s'" >&2 && usage >&2 && exit 2; }
  done
  names=("${only[@]}")
fi
if [ -z "${RINGTUN:-}" ]; then
  for candidate in "$repo/build/daemon/ringtun" "$repo/build-bench/daemon/ringtun"; do
    [ -x "$candidate" ] && export RINGTUN=$candidate && break
  done
fi
[ "$(id -u)" -eq 0 ] || { echo "SKIP: bench/run.sh needs root" >&2 && exit 77; }

source "$repo/bench/report.sh"

workdir=$(mktemp -d /tmp/ringtun-bench.XXXXXX)
child=""
on_exit() {
  if [ -n "$child" ]; then
    kill -TERM "$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
  fi
  rm -rf "$workdir"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

failed=0 skipped_all=1
for name in "${names[@]}"; do
  echo "== $name (${seconds}s per iperf3 run)" >&2
  rc=0
  timeout -k 10 $((seconds * 3 + 180)) env --default-signal=INT \
    bash "$0" --one "$name" "$seconds" "$workdir/$name.result" &
  child=$!
  wait "$child" || rc=$?
  child=""
  case $rc in
    0) skipped_all=0 ;;
    77) [ -s "$workdir/$name.result" ] || echo "skip=requirements missing" >"$workdir/$name.result" ;;
    *) echo "failed=exit status $rc" >"$workdir/$name.result" && failed=1 ;;
  esac
done

table=$(bench_table "$workdir" "${names[@]}")
echo "$table"
if [ $record -eq 1 ]; then
  if [ $skipped_all -eq 1 ]; then
    echo "nothing measured; docs/BENCHMARKS.md left as it is" >&2
  else
    bench_record "$repo/docs/BENCHMARKS.md" "$args_text" "$seconds" "$table"
    echo "recorded in docs/BENCHMARKS.md" >&2
  fi
fi
[ $skipped_all -eq 0 ] || exit 77
exit $failed
