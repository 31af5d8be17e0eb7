# shellcheck shell=bash
# Formatting for bench/run.sh: the markdown table of results, and the dated section that
# --record appends to docs/BENCHMARKS.md. Sourced by run.sh (needs BENCH_SETUPS).

# Value of KEY in the key=value result file FILE.
bench_get() { sed -n "s/^$2=//p" "$1" | head -n 1; }

bench_gbps() { awk -v b="$1" 'BEGIN { printf "%.2f Gbit/s", b / 1e9 }'; }

# Prints the table for the result files DIR/NAME.result, then a line for each setup that was
# skipped or failed.
bench_table() {
  local dir=$1 name f notes=()
  shift
  echo "| setup | TCP 1 stream A→B | TCP 1 stream B→A | TCP 4 streams A→B | ping RTT avg | CPU s/GB | idle load |"
  echo "|---|--:|--:|--:|--:|--:|--:|"
  for name in "$@"; do
    f="$dir/$name.result"
    if [ -n "$(bench_get "$f" skip)" ]; then
      notes+=("- $name: not measured: $(bench_get "$f" skip)")
    elif [ -n "$(bench_get "$f" failed)" ]; then
      notes+=("- $name: FAILED ($(bench_get "$f" failed))")
    else
      printf '| %s | %s | %s | %s | %s ms | %s | %s cores |\n' "$name" \
        "$(bench_gbps "$(bench_get "$f" a2b_bps)")" "$(bench_gbps "$(bench_get "$f" b2a_bps)")" \
        "$(bench_gbps "$(bench_get "$f" p4_bps)")" "$(bench_get "$f" rtt_ms)" \
        "$(bench_get "$f" cpu_s_per_gb)" "$(bench_get "$f" idle_cores)"
    fi
  done
  if [ ${#notes[@]} -gt 0 ]; then
    echo
    printf '%s\n' "${notes[@]}"
  fi
}

bench_versions() {
  local wggo iperf rt="ringtun not built"
  wggo=$(dpkg-query -W -f='${Version}' wireguard-go 2>/dev/null || wireguard-go --version | head -n 1)
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

# Appends a dated section with TABLE to FILE.
bench_record() {
  local file=$1 command=$2 seconds=$3 table=$4 s
  {
    echo
    echo "## $(date -u '+%Y-%m-%d %H:%M UTC')"
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
  } >>"$file"
}
