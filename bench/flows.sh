#!/usr/bin/env bash
# The concurrency sweep of the io_uring-versus-epoll comparison, in the spirit of the classic
# echo-server table (1 to 1000 clients): aggregate TCP throughput through the tunnel, and the
# machine's CPU seconds per GB moved, with 1, 8, 64 and 256 parallel flows, for each setup of
# bench/setups.sh named (default: ringtun and ringtun-epoll), each in its own namespaces.
#
#   bench/flows.sh [--seconds N] [--flows "1 8 64 256"] [--chart FILE] [--only SETUP...]
#
# One iperf3 client carries at most 128 streams: 256 flows are two clients to two servers,
# run side by side. Before each point the harness waits for a quiet second (bench_quiet).
# Prints a markdown table (rows: flows; per setup Gbit/s and CPU s/GB); --chart FILE
# (.svg or .png) draws throughput against flows with gnuplot.
# Needs root, /dev/net/tun, ip netns, iperf3 (exit 77 otherwise); RINGTUN as for bench/run.sh.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
source "$repo/bench/setups.sh"

per_client=128

# Child: measures setup NAME at each flow count, SECONDS each; key=value lines to OUT.
flows_one() {
  local name=$1 seconds=$2 flows=$3 hz busy n k clients pids port t0 t1 bytes bps total
  BENCH_OUT=$4
  BENCH_PID_A="" BENCH_PID_B="" BENCH_TUN_A=""
  source "$repo/tests/netns/lib.sh"
  netns_require iperf3
  netns_pair
  "setup_${name//-/_}"
  ping_ok "$NS_A" "$BENCH_DST" 3 15 || netns_fail "$name: no ping reply from $BENCH_DST"
  hz=$(getconf CLK_TCK)
  local max=0
  for n in $flows; do [ "$n" -gt "$max" ] && max=$n; done
  for ((k = 0; k < (max + per_client - 1) / per_client; k++)); do
    iperf3_server "$NS_B" $((5201 + k))
  done
  : >"$BENCH_OUT"
  for n in $flows; do
    busy=$(bench_quiet "$hz")
    clients=$(((n + per_client - 1) / per_client))
    pids=()
    t0=$(cpu_busy_ticks)
    for ((k = 0; k < clients; k++)); do
      port=$((5201 + k))
      local streams=$((n - k * per_client > per_client ? per_client : n - k * per_client))
      IPERF3_PORT=$port iperf3_client "$NS_A" "$BENCH_DST" -t "$seconds" -P "$streams" \
        >"$NETNS_TMP/flows-$n-$k.json" &
      pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || netns_fail "$name: iperf3 with $n flows failed"; done
    t1=$(cpu_busy_ticks)
    total=0 bytes=0
    for ((k = 0; k < clients; k++)); do
      read -r bps b < <(iperf3_field "$NETNS_TMP/flows-$n-$k.json" receiver_bps receiver_bytes)
      total=$(awk -v a="$total" -v b="$bps" 'BEGIN { printf "%.0f", a + b }')
      bytes=$((bytes + b))
    done
    echo "flows=$n bps=$total cpu_s_per_gb=$(awk -v t=$((t1 - t0)) -v hz="$hz" -v b="$bytes" \
      'BEGIN { printf "%.2f", (t / hz) / (b / 1e9) }') idle_cores=$busy" >>"$BENCH_OUT"
    sleep 1
  done
  if ! netns_alive "$BENCH_PID_A" || ! netns_alive "$BENCH_PID_B"; then
    netns_fail "$name: a tunnel process exited during the runs"
  fi
}

if [ "${1:-}" = --one ]; then
  shift
  flows_one "$@"
  exit 0
fi

seconds=8 flows="1 8 64 256" charts=() only=()
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) seconds=${2:?--seconds N} && shift 2 ;;
    --flows) flows=${2:?--flows \"1 8 64 256\"} && shift 2 ;;
    --chart) charts+=("${2:?--chart FILE}") && shift 2 ;;
    --only)
      shift
      while [ $# -gt 0 ] && [[ $1 != --* ]]; do only+=("$1") && shift; done
      ;;
    -h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' && exit 0 ;;
    *) echo "unknown argument $1 (see --help)" >&2 && exit 2 ;;
  esac
done
[[ $seconds =~ ^[0-9]+$ ]] && [ "$seconds" -ge 1 ] || { echo "--seconds takes a number" >&2 && exit 2; }
for n in $flows; do
  [[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 1024 ] ||
    { echo "--flows takes counts 1..1024" >&2 && exit 2; }
done
[ ${#only[@]} -gt 0 ] || only=(ringtun ringtun-epoll)
[ "$(id -u)" -eq 0 ] || { echo "SKIP: bench/flows.sh needs root" >&2 && exit 77; }
if [ -z "${RINGTUN:-}" ]; then
  for candidate in "$repo/build-rel/daemon/ringtun" "$repo/build/daemon/ringtun"; do
    [ -x "$candidate" ] && export RINGTUN=$candidate && break
  done
fi

workdir=$(mktemp -d /tmp/ringtun-flows.XXXXXX)
trap 'rm -rf "$workdir"' EXIT
for name in "${only[@]}"; do
  echo "flows: $name ..." >&2
  rc=0
  bash "$0" --one "$name" "$seconds" "$flows" "$workdir/$name.result" >"$workdir/$name.log" 2>&1 ||
    rc=$?
  [ $rc -eq 0 ] || { echo "flows: $name failed ($rc); $(tail -3 "$workdir/$name.log")" >&2; exit 1; }
done

# The table: one row per flow count, Gbit/s and CPU s/GB per setup.
header="| flows |" rule="|---:|"
for name in "${only[@]}"; do header+=" $name Gbit/s | $name CPU s/GB |" && rule+="---:|---:|"; done
echo "$header"
echo "$rule"
for n in $flows; do
  row="| $n |"
  for name in "${only[@]}"; do
    line=$(grep "^flows=$n " "$workdir/$name.result")
    row+=$(awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
                 printf " %.2f | %.2f |", v["bps"] / 1e9, v["cpu_s_per_gb"] }' <<<"$line")
  done
  echo "$row"
done
for chart in "${charts[@]}"; do
  command -v gnuplot >/dev/null || { echo "no chart: gnuplot is not installed" >&2 && break; }
  plot="" i=0
  for name in "${only[@]}"; do
    sed 's/flows=\([0-9]*\) bps=\([0-9]*\).*/\1 \2/' "$workdir/$name.result" >"$workdir/$name.dat"
    plot+="${plot:+, }'$workdir/$name.dat' using 1:(\$2/1e9) with linespoints lw 2 title '$name'"
    i=$((i + 1))
  done
  term=svg
  [[ $chart == *.png ]] && term=pngcairo
  gnuplot -e "set terminal $term size 800,450; set output '$chart';
    set title 'TCP through the tunnel: aggregate throughput against parallel flows';
    set xlabel 'parallel flows (iperf3 -P)'; set ylabel 'Gbit/s'; set logscale x 2;
    set yrange [0:*]; set key bottom left; set grid; plot $plot"
  echo "chart: $chart" >&2
done
