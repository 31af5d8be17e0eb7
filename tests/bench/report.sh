#!/usr/bin/env bash
# bench/'s arithmetic and formatting without running a benchmark: pps_sum.py over iperf3 UDP
# results, the markdown table from result files (RSS, 64 B UDP capacity, TUN offload,
# skipped rows), and, where gnuplot is installed, the chart. Needs bash, python3, awk.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d /tmp/ringtun-bench-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# Two senders of 3 s: 300000 + 150000 sent, 297000 + 150000 received.
udp_json() {
  cat <<J
{"end": {"sum_sent": {"packets": $1, "seconds": 3.0},
         "sum_received": {"packets": $1, "lost_packets": $2, "seconds": 3.0}}}
J
}
udp_json 300000 3000 >"$tmp/a.json"
udp_json 150000 0 >"$tmp/b.json"
got=$(python3 "$repo/bench/pps_sum.py" "$tmp/a.json" "$tmp/b.json")
[ "$got" = "150000 149000 0.67" ] || fail "pps_sum.py: '$got'"
echo '{"error": "unable to connect"}' >"$tmp/c.json"
if python3 "$repo/bench/pps_sum.py" "$tmp/c.json" 2>/dev/null; then fail "pps_sum.py took an error"; fi

cat >"$tmp/veth.result" <<R
setup=veth
rtt_ms=0.160
idle_cores=0.01
a2b_bps=19890000000
b2a_bps=19860000000
p4_bps=39170000000
cpu_s_per_gb=0.43
tun_offload=—
pps=199865
R
cat >"$tmp/wggo-bpo.result" <<R
setup=wggo-bpo
rtt_ms=0.694
idle_cores=0.00
a2b_bps=2430000000
b2a_bps=2680000000
p4_bps=2860000000
cpu_s_per_gb=5.80
tun_offload=TSO+USO
pps=≥37486
rss_a_kb=323379
rss_b_kb=509850
R
cat >"$tmp/ringtun.result" <<R
setup=ringtun
rtt_ms=0.477
idle_cores=0.12
a2b_bps=1630000000
b2a_bps=2030000000
p4_bps=1420000000
cpu_s_per_gb=9.10
tun_offload=off
pps_below=40000
rss_a_kb=13516
rss_b_kb=13516
R
# shellcheck disable=SC2016  # the backquotes are text
echo 'skip=`ringtun check` refuses the [offload] section' >"$tmp/ringtun-nooff.result"

# shellcheck disable=SC2034  # read by report.sh
BENCH_SETUPS=()
source "$repo/bench/report.sh"
table=$(bench_table "$tmp" veth wggo-bpo ringtun ringtun-nooff)
expect=(
  "| veth | 19.89 Gbit/s | 19.86 Gbit/s | 39.17 Gbit/s | 0.160 ms | 0.43 | — | 199.9 kpps | — | 0.01 cores |"
  "| wggo-bpo | 2.43 Gbit/s | 2.68 Gbit/s | 2.86 Gbit/s | 0.694 ms | 5.80 | 315.8/497.9 MiB | ≥37.5 kpps | TSO+USO | 0.00 cores |"
  "| ringtun | 1.63 Gbit/s | 2.03 Gbit/s | 1.42 Gbit/s | 0.477 ms | 9.10 | 13.2/13.2 MiB | < 40.0 kpps | off | 0.12 cores |"
  "- ringtun-nooff: not measured: \`ringtun check\` refuses the [offload] section"
)
for line in "${expect[@]}"; do
  grep -qxF -- "$line" <<<"$table" || fail "table lacks: $line"$'\n'"$table"
done

if command -v gnuplot >/dev/null; then
  bench_chart "$tmp" "$tmp/chart.svg" "test" veth wggo-bpo ringtun ringtun-nooff ||
    fail "bench_chart failed"
  if ! grep -q '<svg' "$tmp/chart.svg" || ! grep -q 'wggo-bpo' "$tmp/chart.svg"; then
    fail "the chart is not an SVG naming the rows"
  fi
  chart="chart drawn"
else
  chart="no gnuplot, chart not tried"
fi
echo "bench report: pps_sum, table and skip notes as expected; $chart"
