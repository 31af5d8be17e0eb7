#!/usr/bin/env bash
# Where the CPU goes while ringtun carries one TCP stream: a system-wide `perf record -a -g
# -e cpu-clock` (this VM has no hardware counters) during an iperf3 run A->B through a ringtun
# pair in two network namespaces (tests/netns/lib.sh), summarised as markdown on stdout:
# shares of the busy samples by category (crypto in libcrypto or ringtun's own, copies, checksums, the kernel's
# TCP / UDP / TUN / veth / other network paths, io_uring, ringtun's own code, the rest), by
# process, and the top symbols.
#
#   bench/profile.sh [--seconds N] [--transport tcp|udp] [--out FILE] [--keep-data FILE]
#
# --seconds: the iperf3 run (default 10; perf records 2 s longer). --transport: ringtun's
# transport between the daemons (default tcp). --out: also write the summary to FILE.
# --keep-data: keep perf.data as FILE (for `perf report -i FILE`).
# Categories are read from each sample's own function (perf report --no-children --sort
# comm,dso,sym): a memcpy inside the kernel's TCP path counts as a copy, a checksum inside
# ringtun as a checksum. Both daemons, both iperf3 ends and the kernel share the two cores, so
# compare categories, not absolute figures across machines.
#
# Needs root, /dev/net/tun, ip netns, iperf3, wg, perf (package linux-perf; exit 77
# otherwise) and $RINGTUN (default: build-rel/daemon/ringtun, then build/daemon/ringtun) with
# `run`.
# shellcheck disable=SC2317  # traps
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)

usage() { echo "usage: bench/profile.sh [--seconds N] [--transport tcp|udp] [--out FILE] [--keep-data FILE]"; }

seconds=10 transport=tcp out="" keep=""
while [ $# -gt 0 ]; do
  case $1 in
    --seconds)
      if ! [[ ${2:-} =~ ^[0-9]+$ ]] || [ "$2" -lt 1 ] || [ "$2" -gt 120 ]; then
        echo "--seconds takes 1..120" >&2
        exit 2
      fi
      seconds=$2 && shift 2
      ;;
    --transport)
      case ${2:-} in tcp | udp) transport=$2 && shift 2 ;; *) usage >&2 && exit 2 ;; esac
      ;;
    --out) out=${2:?--out FILE} && shift 2 ;;
    --keep-data) keep=${2:?--keep-data FILE} && shift 2 ;;
    -h | --help) usage && exit 0 ;;
    *) usage >&2 && exit 2 ;;
  esac
done
if [ -z "${RINGTUN:-}" ]; then
  for candidate in "$repo/build-rel/daemon/ringtun" "$repo/build/daemon/ringtun"; do
    [ -x "$candidate" ] && export RINGTUN=$candidate && break
  done
fi
[ "$(id -u)" -eq 0 ] || { echo "SKIP: bench/profile.sh needs root" >&2 && exit 77; }

source "$repo/tests/netns/lib.sh"
netns_require iperf3 wg perf
ringtun_has_run || netns_skip "no ringtun with \`run\` (build it, or set RINGTUN)"
data="$NETNS_TMP/perf.data"
timeout 20 perf record -q -e cpu-clock -a -o "$data" -- true >"$NETNS_TMP/perf-probe.log" 2>&1 ||
  netns_skip "perf record -a -e cpu-clock does not work here: $(head -n 2 "$NETNS_TMP/perf-probe.log")"

netns_pair
ringtun_pair "$transport"
ping_ok "$NS_A" "$TUN_B4" 3 15 || netns_fail "no ping through the tunnel"
iperf3_server "$NS_B"

# perf first, over the whole iperf3 run: it records for SECONDS + 2 s and stops by itself.
timeout -k 5 $((seconds + 30)) perf record -q -a -g -e cpu-clock -F 999 -o "$data" \
  -- sleep $((seconds + 2)) >"$NETNS_TMP/perf-record.log" 2>&1 &
perf_pid=$!
netns_track "$perf_pid"
sleep 1
iperf3_client "$NS_A" "$TUN_B4" -t "$seconds" >"$NETNS_TMP/iperf3.json" ||
  netns_fail "iperf3 failed: $(head -c 300 "$NETNS_TMP/iperf3.json")"
rc=0
wait "$perf_pid" || rc=$?
[ $rc -eq 0 ] || netns_fail "perf record exited with $rc: $(tail -n 3 "$NETNS_TMP/perf-record.log")"
read -r bps retrans < <(iperf3_field "$NETNS_TMP/iperf3.json" receiver_bps retransmits)
[ -z "$keep" ] || cp "$data" "$keep"

perf report -i "$data" --no-children --sort comm,dso,sym -F sample,comm,dso,sym -t $'\t' \
  --stdio -g none 2>/dev/null | grep -v '^#' | grep . >"$NETNS_TMP/report.tsv" ||
  netns_fail "perf report printed nothing"

summary=$(awk -F '\t' -v secs="$seconds" -v transport="$transport" -v bps="$bps" \
  -v retrans="$retrans" -v rt="$RINGTUN" -v cores="$(nproc)" '
function trim(s) { gsub(/^[ \t]+|[ \t]+$/, "", s); return s }
function category(comm, dso, sym, kern) {
  if (sym ~ /^(pv_native_safe_halt|native_safe_halt|default_idle|acpi_idle_do_entry|acpi_safe_halt|intel_idle|poll_idle|cpu_idle_poll|mwait_idle|default_idle_call|arch_cpu_idle)$/)
    return "idle"
  if (sym ~ /(^|_)mem(cpy|move)|copy_user|copy_(to|from)_user|_copy_(to|from)_iter|rep_movs|copy_page|^copy_mc|check_object_size|virt_addr_valid|check_heap_object/)
    return "copies (memcpy, copy_user, usercopy checks)"
  if (sym ~ /csum|checksum/) return "checksums (csum*)"
  if (dso ~ /libcrypto/) return "crypto (libcrypto)"
  if (dso == "ringtun" && sym ~ /chacha20_|poly1305_|absorb_|avx512_(seal|open)|xor_bytes|wipe_bytes/)
    return "crypto (ringtun AVX-512)"
  if ((kern && sym ~ /^(__)?io_|io_uring/ && sym !~ /^io_schedule/) || dso ~ /liburing/)
    return "io_uring (kernel and liburing)"
  if (dso == "ringtun") return "ringtun (own code)"
  if (kern) {
    if (sym ~ /^(__)?tun_/) return "kernel TUN"
    if (sym ~ /^(__)?veth_/) return "kernel veth"
    if (sym ~ /tcp/) return "kernel TCP"
    if (sym ~ /udp/) return "kernel UDP"
    if (sym ~ /^(__)?(ip_|ip6_|ipv6_|inet|skb_|sk_|sock_|sock|netif_|napi_|net_|dev_|gro_|nf_|neigh|fib|dst_|raw_|sch_|qdisc|eth_|validate_xmit|kfree_skb|consume_skb|alloc_skb|build_skb|process_backlog|enqueue_to_backlog|rps_|skb|__skb|kmalloc_reserve|page_frag|napi)/)
      return "kernel network core (IP, skb, devices)"
    return "kernel other (syscalls, scheduler, memory, ...)"
  }
  return "user other (iperf3, libc, ...)"
}
function who(comm) {
  if (comm == "ringtun") return "ringtun (both daemons)"
  if (comm == "iperf3") return "iperf3 (both ends)"
  if (comm ~ /^ksoftirqd/) return "ksoftirqd"
  if (comm == "swapper") return "swapper (softirq in idle context)"
  if (comm ~ /^kworker/) return "kworker"
  return "other"
}
{
  n = $1 + 0; comm = trim($2); dso = trim($3); sym = trim($4)
  kern = (sym ~ /^\[k\] /)
  sub(/^\[[^]]*\] /, "", sym)
  sub(/^.*\//, "", dso)
  total += n
  c = category(comm, dso, sym, kern)
  if (c == "idle") { idle += n; next }
  busy += n
  cat[c] += n
  if (kern && sym ~ /^(_raw_spin_unlock_irqrestore|_raw_spin_unlock_irq|handle_softirqs|__local_bh_enable_ip|_raw_spin_unlock_bh)$/) irqon += n
  if (comm == "ringtun") { rtbusy += n; rtcat[c] += n }
  proc[who(comm)] += n
  key = sym " (" dso ")"
  if (sym ~ /^0x[0-9a-f]+$/) key = "unresolved (" dso ")"
  symn[key] += n
  if (c ~ /^kernel other/) othern[sym] += n
}
function pct(a, b) { return b ? sprintf("%.1f%%", 100 * a / b) : "-" }
function sorted_print(arr, denom, extra, k, i, j, keys, m, t, limit) {
  m = 0
  for (k in arr) keys[++m] = k
  for (i = 2; i <= m; i++) for (j = i; j > 1 && arr[keys[j]] > arr[keys[j-1]]; j--) { t = keys[j]; keys[j] = keys[j-1]; keys[j-1] = t }
  limit = extra == "top" ? 15 : m
  for (i = 1; i <= m && i <= limit; i++) {
    k = keys[i]
    if (extra == "rt") printf "| %s | %s | %s |\n", k, pct(arr[k], denom), pct(rtcat[k], rtbusy)
    else printf "| %s | %s |\n", k, pct(arr[k], denom)
  }
}
END {
  printf "## CPU profile: ringtun %s transport, 1 TCP stream A→B, %d s\n\n", toupper(transport), secs
  printf "- `perf record -a -g -e cpu-clock -F 999` over the run (hardware counters are unavailable in this VM); categories by each sample'"'"'s own function (`perf report --no-children --sort comm,dso,sym`)\n"
  printf "- binary: %s\n", rt
  printf "- iperf3: %.2f Gbit/s received, %d retransmits\n", bps / 1e9, retrans
  printf "- samples: %d, of which busy %d (%.2f of %d cores busy on average; idle %s)\n\n", total, busy, cores * busy / (total ? total : 1), cores, pct(idle, total)
  printf "| category | share of busy samples | share of ringtun'"'"'s own samples |\n|---|--:|--:|\n"
  sorted_print(cat, busy, "rt")
  printf "\nringtun processes: %s of busy samples. cpu-clock samples come from a timer interrupt, so time spent with interrupts or softirqs disabled is charged to where they are enabled again (_raw_spin_unlock_irqrestore, handle_softirqs, ...: %s of busy samples here, counted under kernel other).\n\n", pct(rtbusy, busy), pct(irqon, busy)
  printf "| process | share of busy samples |\n|---|--:|\n"
  sorted_print(proc, busy, "")
  printf "\n| top symbols (self) | share of busy samples |\n|---|--:|\n"
  sorted_print(symn, busy, "top")
  printf "\n| top of \"kernel other\" | share of busy samples |\n|---|--:|\n"
  sorted_print(othern, busy, "top")
}' "$NETNS_TMP/report.tsv")
echo "$summary"
[ -z "$out" ] || echo "$summary" >"$out"
