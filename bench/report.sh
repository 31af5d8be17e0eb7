# shellcheck shell=bash disable=SC2154  # repo is set by run.sh
# Formatting for bench/run.sh: the markdown table of results, and the dated section that
# --record appends to docs/BENCHMARKS.md, and the gnuplot chart of the table. Sourced by run.sh
# (needs BENCH_SETUPS and repo).

# Value of KEY in the key=value result file FILE.
bench_get() { sed -n "s/^$2=//p" "$1" | head -n 1; }

bench_gbps() { awk -v b="$1" 'BEGIN { printf "%.2f Gbit/s", b / 1e9 }'; }

# "A/B MiB" from the peak RSS in KiB of both sides, "—" without tunnel processes.
bench_rss() {
  local a b
  a=$(bench_get "$1" rss_a_kb) b=$(bench_get "$1" rss_b_kb)
  if [ -z "$a$b" ]; then echo "—" && return 0; fi
  awk -v a="${a:-0}" -v b="${b:-0}" 'BEGIN { printf "%.1f/%.1f MiB", a / 1024, b / 1024 }'
}

# "123.4 kpps" (a leading "≥" kept: the generator's limit, not the tunnel's), or why not.
bench_kpps() {
  local p
  p=$(bench_get "$1" pps)
  if [ -z "$p" ]; then
    if [ -n "$(bench_get "$1" pps_error)" ]; then echo "error" && return 0; fi
    p=$(bench_get "$1" pps_below)
    if [ -n "$p" ]; then awk -v p="$p" 'BEGIN { printf "< %.1f kpps", p / 1000 }'; else echo "—"; fi
    return 0
  fi
  awk -v p="${p#≥}" -v b="${p%%[0-9]*}" 'BEGIN { printf "%s%.1f kpps", b, p / 1000 }'
}

# Prints the table for the result files DIR/NAME.result, then a line for each setup that was
# skipped or failed.
bench_table() {
  local dir=$1 name f notes=()
  shift
  echo "| setup | TCP 1 stream A→B | TCP 1 stream B→A | TCP 4 streams A→B | ping RTT avg | CPU s/GB | RSS A/B | 64 B UDP | TUN offload | idle load |"
  echo "|---|--:|--:|--:|--:|--:|--:|--:|:-:|--:|"
  for name in "$@"; do
    f="$dir/$name.result"
    if [ -n "$(bench_get "$f" skip)" ]; then
      notes+=("- $name: not measured: $(bench_get "$f" skip)")
    elif [ -n "$(bench_get "$f" failed)" ]; then
      notes+=("- $name: FAILED ($(bench_get "$f" failed))")
    else
      printf '| %s | %s | %s | %s | %s ms | %s | %s | %s | %s | %s cores |\n' "$name" \
        "$(bench_gbps "$(bench_get "$f" a2b_bps)")" "$(bench_gbps "$(bench_get "$f" b2a_bps)")" \
        "$(bench_gbps "$(bench_get "$f" p4_bps)")" "$(bench_get "$f" rtt_ms)" \
        "$(bench_get "$f" cpu_s_per_gb)" "$(bench_rss "$f")" "$(bench_kpps "$f")" \
        "$(bench_get "$f" tun_offload)" "$(bench_get "$f" idle_cores)"
    fi
  done
  if [ ${#notes[@]} -gt 0 ]; then
    echo
    printf '%s\n' "${notes[@]}"
  fi
}

# Draws the measured rows of DIR/NAME.result as bar charts into OUT (.svg or .png) with
# gnuplot: TCP throughput per tunnel (the raw veth row, ten times higher, is named in the
# title instead of drawn) and the small-packet capacity (veth included: the generator's
# ceiling). Fails, saying why, without gnuplot.
bench_chart() {
  local dir=$1 out=$2 stamp=$3 name f data veth="" term kpps p
  shift 3
  command -v gnuplot >/dev/null ||
    { echo "no chart: gnuplot is not installed (scripts/install-deps.sh --bench)" >&2 && return 1; }
  data=$(mktemp /tmp/ringtun-bench-chart.XXXXXX)
  : >"$data.tcp"
  for name in "$@"; do
    f="$dir/$name.result"
    [ -n "$(bench_get "$f" a2b_bps)" ] || continue
    p=$(bench_get "$f" pps)
    if [ -n "$p" ]; then kpps=$(awk -v p="${p#≥}" 'BEGIN { printf "%.1f", p / 1000 }'); else kpps=NaN; fi
    if [ "$name" = veth ] && [ $# -gt 1 ]; then
      veth=$(awk -v a="$(bench_get "$f" a2b_bps)" -v b="$(bench_get "$f" b2a_bps)" \
        -v c="$(bench_get "$f" p4_bps)" 'BEGIN { printf "%.1f / %.1f / %.1f", a / 1e9, b / 1e9, c / 1e9 }')
    else
      printf '"%s" %s %s %s\n' "$name" "$(bench_get "$f" a2b_bps)" "$(bench_get "$f" b2a_bps)" \
        "$(bench_get "$f" p4_bps)" >>"$data.tcp"
    fi
    printf '"%s" %s "%s%.0f"\n' "$name" "$kpps" "${p%%[0-9]*}" "${kpps/NaN/0}" >>"$data"
  done
  case $out in
    *.png) term="pngcairo size 1000,760 font 'sans,10'" ;;
    *) term="svg size 1000,760 dynamic font 'sans,11' background '#ffffff'" ;;
  esac
  timeout 60 gnuplot >"$data.log" 2>&1 <<EOF || { cat "$data.log" >&2; rm -f "$data" "$data.tcp" "$data.log"; return 1; }
set encoding utf8
set terminal $term
set output "$out"
set multiplot layout 2,1 title "ringtun bench/run.sh, $stamp" noenhanced
set style data histogram
set style histogram cluster gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set yrange [0:*]
set offsets 0.2, 0.2, graph 0.15, 0
set xtics noenhanced
set key top left horizontal noenhanced
set title "TCP throughput through the tunnel, Gbit/s${veth:+ (veth without tunnel: $veth)}" noenhanced
set ylabel "Gbit/s"
plot "$data.tcp" using (\$2/1e9):xtic(1) title "1 stream A→B" lc rgb "#4477aa", \
  '' using (\$3/1e9) title "1 stream B→A" lc rgb "#66ccee", \
  '' using (\$4/1e9) title "4 streams A→B" lc rgb "#228833", \
  '' using (\$0-0.25):(\$2/1e9):(sprintf("%.2f",\$2/1e9)) with labels offset 0,0.6 font ",8" notitle, \
  '' using (\$0):(\$3/1e9):(sprintf("%.2f",\$3/1e9)) with labels offset 0,0.6 font ",8" notitle, \
  '' using (\$0+0.25):(\$4/1e9):(sprintf("%.2f",\$4/1e9)) with labels offset 0,0.6 font ",8" notitle
set title "64-byte UDP datagrams received with < 1% loss, thousands per second (veth: the generator's ceiling)" noenhanced
set ylabel "kpps"
set style histogram cluster gap 2
plot "$data" using 2:xtic(1) title "64 B UDP capacity" lc rgb "#ccbb44", \
  '' using 0:2:3 with labels offset 0,0.6 font ",8" notitle
unset multiplot
EOF
  rm -f "$data" "$data.tcp" "$data.log"
}

bench_versions() {
  local wggo iperf rt="ringtun not built" bpo
  wggo=$(dpkg-query -W -f='${Version}' wireguard-go 2>/dev/null || wireguard-go --version | head -n 1)
  bpo=$("$repo/bench/fetch-wireguard-go.sh" --path 2>/dev/null) &&
    wggo+=" (wggo-bpo: $(sed -n 's/^package: wireguard-go \([^ ]*\).*/\1/p' "${bpo%/usr/bin/*}/SOURCE"))"
  iperf=$(iperf3 --version 2>/dev/null | head -n 1 | awk '{print $2}')
  if [ -n "${RINGTUN:-}" ] && [ -x "$RINGTUN" ]; then
    rt="$("$RINGTUN" --version 2>/dev/null)"
    ringtun_has_run_here || rt+=" (no \`run\` yet)"
  fi
  echo "wireguard-go $wggo, iperf3 $iperf, $rt"
}

ringtun_has_run_here() { "$RINGTUN" --help 2>/dev/null | grep -q '^  run'; }

bench_machine() {
  local model mem
  model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
  mem=$(awk '/^MemTotal:/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo)
  echo "${model:-unknown CPU}, $(nproc) cores, $mem GiB memory"
}

# Appends a section dated STAMP with TABLE to FILE, and the chart CHART (a path relative to
# FILE's folder; none when empty) after the table.
bench_record() {
  local file=$1 command=$2 seconds=$3 table=$4 stamp=$5 chart=${6:-} s
  {
    echo
    echo "## $stamp"
    echo
    echo "\`$command\` (${seconds} s per iperf3 run)"
    echo
    echo "- Machine: $(bench_machine)"
    echo "- Kernel: $(uname -r)"
    echo "- Versions: $(bench_versions)"
    for s in "${BENCH_SETUPS[@]}"; do
      grep -q "^| ${s%%|*} |\|^- ${s%%|*}:" <<<"$table" && echo "- \`${s%%|*}\`: ${s#*|}"
    done
    echo
    echo "$table"
    if [ -n "$chart" ]; then
      echo
      echo "![TCP throughput and 64-byte UDP capacity of this run]($chart)"
    fi
  } >>"$file"
}
