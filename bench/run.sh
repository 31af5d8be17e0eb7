#!/usr/bin/env bash
# Throughput, latency, CPU cost, memory and small-packet capacity of each setup in
# bench/setups.sh, measured between two network namespaces joined by veth
# (tests/netns/lib.sh), with iperf3 and ICMP echo.
#
#   bench/run.sh [--seconds N] [--pps-seconds N] [--pps-senders K] [--chart FILE] [--record]
#                [--only SETUP...]
#
# Per setup: TCP 1 stream A->B, TCP 1 stream B->A (-R), TCP 4 streams A->B (-P 4), each N
# seconds (default 10); ping RTT (average of 20 echoes 0.05 s apart); CPU seconds per GB:
# the whole machine's non-idle CPU time (/proc/stat) during the three iperf3 runs divided
# by the bytes they delivered. "idle load" is the machine's busy cores in the second before
# (the harness waits up to 30 s for one below $BENCH_QUIET_CORES, default 0.25), to show how
# quiet the machine was (the busier of that second and the one before the small-packet search).
# Then the small-packet capacity: the highest rate of 64-byte UDP datagrams (iperf3 -u -l 64)
# from A that B receives with less than 1% loss, found by doubling from $BENCH_PPS_START
# (default 40000/s) and then bisecting, at most 8 probes of --pps-seconds (default 3; 0 skips
# the search) each, with K (default 4) iperf3 senders in parallel, each to its own server, so
# that one iperf3 (~90k datagrams/s here) is not the limit. The raw `veth` row is the
# generator's own ceiling; a "≥" marks a rate the senders could not exceed without loss.
# Last, each tunnel process's peak resident memory (VmHWM, which the kernel keeps as the
# maximum of VmRSS; read after all the runs, before the tunnel stops) and the TUN's TSO/USO
# features as `ethtool -k` shows them in A.
# Prints a markdown table; --chart FILE (repeatable) also draws it with gnuplot (.svg or .png);
# --record appends it, dated, with machine, kernel, versions, the command and a chart in
# docs/benchmarks/, to docs/BENCHMARKS.md.
#
# Needs root, /dev/net/tun, ip netns, iperf3, wireguard-go, wg (exit 77 otherwise); the chart
# needs gnuplot, the offload column ethtool (scripts/install-deps.sh --bench). ringtun setups
# use $RINGTUN (default: build/daemon/ringtun) and are skipped while it has no `run`; the
# -base setups use $RINGTUN_BASELINE, another build to compare with in the same run;
# wggo-bpo fetches its binary once with bench/fetch-wireguard-go.sh.
# Each setup runs as its own child process with its own namespaces, removed when it ends.
# shellcheck disable=SC2317  # functions called indirectly: setups, traps
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
source "$repo/bench/setups.sh"

usage() {
  echo "usage: bench/run.sh [--seconds N] [--pps-seconds N] [--pps-senders K] [--chart FILE]"
  echo "                    [--record] [--only SETUP...]"
  echo "setups:"
  local s
  for s in "${BENCH_SETUPS[@]}"; do printf '  %-12s %s\n' "${s%%|*}" "${s#*|}"; done
}

# Child: measures setup NAME for SECONDS per iperf3 run, writes key=value lines to OUT.
bench_skip() {
  echo "skip=$*" >"$BENCH_OUT"
  netns_skip "$*"
}

# Peak resident memory of PID in KiB (VmHWM), empty when it is gone.
bench_hwm_kb() { [ -n "$1" ] && awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

# TSO/USO of the tunnel's TUN in NS_A as ethtool shows them: "TSO+USO", "TSO", "USO", "off";
# "?" without ethtool, "—" without a TUN.
bench_tun_offload() {
  local k tso usO
  [ -n "${BENCH_TUN_A:-}" ] || { echo "—" && return 0; }
  command -v ethtool >/dev/null || { echo "?" && return 0; }
  k=$(ip netns exec "$NS_A" ethtool -k "$BENCH_TUN_A" 2>/dev/null) || { echo "?" && return 0; }
  tso=$(awk '$1 == "tx-tcp-segmentation:" { print $2 }' <<<"$k")
  usO=$(awk '$1 == "tx-udp-segmentation:" { print $2 }' <<<"$k")
  case "$tso/$usO" in
    on/on) echo "TSO+USO" ;;
    on/*) echo "TSO" ;;
    */on) echo "USO" ;;
    *) echo "off" ;;
  esac
}

# One small-packet probe: K iperf3 senders in A, each at RATE/K 64-byte datagrams per second
# for SECONDS to its own server in B. Prints "SENT_PPS RECEIVED_PPS LOSS_PERCENT".
bench_pps_probe() {
  local rate=$1 seconds=$2 k=$3 i bps pids=() rc=0
  bps=$((rate * 64 * 8 / k))
  rm -f "$NETNS_TMP"/pps-*.json
  for ((i = 0; i < k; i++)); do
    timeout -k 3 $((seconds + 20)) ip netns exec "$NS_A" iperf3 -c "$BENCH_DST" -p $((BENCH_PPS_PORT + i)) \
      -u -l 64 -b "$bps" -t "$seconds" --json --connect-timeout 5000 >"$NETNS_TMP/pps-$i.json" 2>&1 &
    pids+=($!)
    netns_track "$!"
  done
  for i in "${pids[@]}"; do wait "$i" || rc=1; done
  [ $rc -eq 0 ] || { netns_log "pps probe at $rate/s: an iperf3 sender failed"; return 1; }
  python3 "$repo/bench/pps_sum.py" "$NETNS_TMP"/pps-*.json
}

# The small-packet search (see the top of this file). Prints "pps=..." result lines.
bench_pps_search() {
  local seconds=$1 k=$2 rate=${BENCH_PPS_START:-40000} good=0 bad=0 probe sent recv loss
  local best="" bound="" line
  for ((probe = 0; probe < k; probe++)); do iperf3_server "$NS_B" $((BENCH_PPS_PORT + probe)); done
  for ((probe = 1; probe <= 8; probe++)); do
    line=$(bench_pps_probe "$rate" "$seconds" "$k") || { echo "pps_error=iperf3 failed at $rate/s"; break; }
    read -r sent recv loss <<<"$line"
    echo "pps_probe$probe=$rate $line"
    netns_log "pps probe $probe: offered $rate/s, sent $sent/s, received $recv/s, loss $loss%"
    sleep 1
    if awk -v l="$loss" 'BEGIN { exit !(l < 1) }'; then
      good=$rate best=$recv bound=""
      # The senders could not offer the rate: more would not tell anything new.
      if [ "$sent" -lt $((rate * 9 / 10)) ]; then bound="≥" && break; fi
    else
      bad=$rate
    fi
    if [ "$bad" -eq 0 ]; then
      rate=$((rate * 2))
    else
      [ $((bad - good)) -gt $((bad / 12)) ] || break
      rate=$(((good + bad) / 2))
    fi
  done
  if [ -n "$best" ]; then
    echo "pps=$bound$best"
  elif [ "$bad" -gt 0 ]; then
    echo "pps_below=$bad"
  fi
  return 0
}

bench_one() {
  local name=$1 seconds=$2 pps_seconds=$3 pps_senders=$4 spec key opts bps bytes t0 t1 ticks=0
  local total=0 rtt hz idle
  BENCH_OUT=$5
  BENCH_PID_A="" BENCH_PID_B="" BENCH_TUN_A="" BENCH_PPS_PORT=5301
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
  results+=("tun_offload=$(bench_tun_offload)")
  if [ "$pps_seconds" -gt 0 ]; then
    # The search waits for a quiet machine too; "idle load" is the busier of the two waits.
    idle=$(awk -v a="$idle" -v b="$(bench_quiet "$hz")" 'BEGIN { print (b > a ? b : a) }')
    results[2]="idle_cores=$idle"
    bench_pps_search "$pps_seconds" "$pps_senders" >"$NETNS_TMP/pps.result"
    mapfile -t -O ${#results[@]} results <"$NETNS_TMP/pps.result"
  fi
  if [ -n "$BENCH_PID_A" ]; then
    if ! netns_alive "$BENCH_PID_A" || ! netns_alive "$BENCH_PID_B"; then
      netns_fail "$name: a tunnel process exited during the runs"
    fi
    results+=("rss_a_kb=$(bench_hwm_kb "$BENCH_PID_A")" "rss_b_kb=$(bench_hwm_kb "$BENCH_PID_B")")
  fi
  printf '%s\n' "${results[@]}" >"$BENCH_OUT"
}

if [ "${1:-}" = --one ]; then
  shift
  bench_one "$@"
  exit 0
fi

# NAME MIN MAX VALUE: exits 2 unless VALUE is an integer in MIN..MAX.
int_arg() {
  if ! [[ ${4:-} =~ ^[0-9]+$ ]] || [ "$4" -lt "$2" ] || [ "$4" -gt "$3" ]; then
    echo "$1 takes $2..$3" >&2
    exit 2
  fi
}

seconds=10 record=0 only=() pps_seconds=3 pps_senders=4 charts=()
args_text="bench/run.sh${*:+ $*}"
while [ $# -gt 0 ]; do
  case $1 in
    --seconds)
      int_arg --seconds 1 600 "${2:-}"
      seconds=$2
      shift 2
      ;;
    --pps-seconds)
      int_arg --pps-seconds 0 30 "${2:-}"
      pps_seconds=$2
      shift 2
      ;;
    --pps-senders)
      int_arg --pps-senders 1 16 "${2:-}"
      pps_senders=$2
      shift 2
      ;;
    --chart)
      [[ ${2:-} == *.svg || ${2:-} == *.png ]] || { echo "--chart takes FILE.svg or FILE.png" >&2; exit 2; }
      charts+=("$2")
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

# The modern anchor's binary, fetched once into the cache (a failure skips the row only).
if [[ " ${names[*]} " == *" wggo-bpo "* ]]; then
  "$repo/bench/fetch-wireguard-go.sh" >/dev/null || echo "wggo-bpo: fetch failed; the row will be skipped" >&2
fi

failed=0 skipped_all=1
for name in "${names[@]}"; do
  echo "== $name (${seconds}s per iperf3 run)" >&2
  rc=0
  timeout -k 10 $((seconds * 3 + 180 + 8 * (pps_seconds + 25))) env --default-signal=INT \
    bash "$0" --one "$name" "$seconds" "$pps_seconds" "$pps_senders" "$workdir/$name.result" &
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
stamp=$(date -u '+%Y-%m-%d %H:%M UTC')
if [ $skipped_all -eq 0 ]; then
  for chart in "${charts[@]}"; do
    bench_chart "$workdir" "$chart" "$stamp" "${names[@]}" && echo "chart: $chart" >&2
  done
fi
if [ $record -eq 1 ]; then
  if [ $skipped_all -eq 1 ]; then
    echo "nothing measured; docs/BENCHMARKS.md left as it is" >&2
  else
    # The chart beside the table: docs/benchmarks/DATE-TIME.svg, linked from the section.
    chart_rel="benchmarks/$(date -u -d "${stamp% UTC}" '+%Y-%m-%d-%H%M').svg"
    mkdir -p "$repo/docs/benchmarks"
    bench_chart "$workdir" "$repo/docs/$chart_rel" "$stamp" "${names[@]}" || chart_rel=""
    bench_record "$repo/docs/BENCHMARKS.md" "$args_text" "$seconds" "$table" "$stamp" "$chart_rel"
    echo "recorded in docs/BENCHMARKS.md${chart_rel:+ (chart: docs/$chart_rel)}" >&2
  fi
fi
[ $skipped_all -eq 0 ] || exit 77
exit $failed
