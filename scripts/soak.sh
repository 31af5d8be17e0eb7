#!/usr/bin/env bash
# Soak test: a ringtun pair under load for DURATION seconds (default 1800), by default the
# ASan/UBSan build, as root. While a checksummed TCP stream and a two-way iperf3 run through
# the tunnel, it
#   - lets the real timers rekey (REKEY_AFTER_TIME 120 s: nothing is shortened),
#   - moves A's outer address every SOAK_ROAM_SECS (B must follow it: roaming),
#   - restarts a third daemon (namespace C) every SOAK_CHURN_SECS as the next of
#     SOAK_CHURN_PEERS extra peers of B, each doing a fresh handshake and a ping,
#   - sends SIGUSR1 and SIGHUP (reload) to A and B every minute,
# samples both daemons' VmRSS every 10 s, and at the end stops them (exit 0, which includes
# LeakSanitizer's check) and reports RSS over time, counters and any sanitizer output.
#
# Usage: scripts/soak.sh [DURATION]
#   RINGTUN         the binary (default build-asan/daemon/ringtun)
#   SOAK_OUT        where results go (default soak-<UTC date>/)
#   SOAK_RATE       iperf3 bitrate per direction (default 100M; 0 = unlimited)
#   SOAK_WARMUP     seconds before the RSS baseline (default 600: the ASan allocator's caches
#                   and quarantine take about ten minutes to settle; a normal build is flat
#                   after two)
#   ASAN_OPTIONS    default quarantine_size_mb=1: ASan's 256 MiB default quarantine would
#                   hold every freed block of the control path and read as RSS growth
# Exits 1 when the stream's bytes differ, iperf3 fails, a churn handshake or a roam does not
# recover within 5 s, A (whose only peer is B) completed fewer than 1 + DURATION/130
# handshakes (the first and a rekey every 120 s, with room for the rekey's jitter), RSS grows by 1 MiB or more after warm-up, a daemon
# dies or exits non-zero, or a sanitizer reports anything.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${1:-1800}
[[ $DURATION =~ ^[0-9]+$ ]] && [ "$DURATION" -ge 120 ] || {
  echo "usage: scripts/soak.sh [DURATION >= 120 seconds]" >&2
  exit 2
}
export RINGTUN=${RINGTUN:-$root/build-asan/daemon/ringtun}
export ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=1}
SOAK_OUT=${SOAK_OUT:-$root/soak-$(date -u +%Y%m%dT%H%M%S)}
SOAK_RATE=${SOAK_RATE:-100M}
SOAK_WARMUP=${SOAK_WARMUP:-600}
SOAK_ROAM_SECS=${SOAK_ROAM_SECS:-180}
SOAK_CHURN_SECS=${SOAK_CHURN_SECS:-20}
SOAK_CHURN_PEERS=${SOAK_CHURN_PEERS:-8}
[ -x "$RINGTUN" ] || { echo "soak: no binary $RINGTUN (scripts/build.sh --sanitize)" >&2; exit 2; }
mkdir -p "$SOAK_OUT"
source "$root/tests/netns/lib.sh"
netns_ringtun_test iperf3
failures=()
fail_soft() {
  failures+=("$*")
  echo "$(date -u +%T) FAIL: $*" | tee -a "$SOAK_OUT/events.log" >&2
}
event() { echo "$(date -u +%T) $*" | tee -a "$SOAK_OUT/events.log"; }

# Namespace C, joined to B by a second veth, for the churning extra peers (10.100.1.K); they
# go into B's configuration before B starts.
churn_setup() {
  netns_add_c b
  local k
  for ((k = 1; k <= SOAK_CHURN_PEERS; k++)); do
    make_keypair "churn$k"
    printf '\n[[peer]]\npublic_key = "%s"\nallowed_ips = ["10.100.1.%d/32"]\n' \
      "$(cat "$NETNS_TMP/churn$k.pub")" "$k" >>"$NETNS_TMP/ringtun-b.toml"
  done
}

# Starts C as extra peer K; succeeds once it has pinged B through the tunnel within 5 s.
churn_peer() {
  local k=$1 conf="$NETNS_TMP/churn.toml" log="$NETNS_TMP/ringtun-c.log"
  [ -n "${CHURN_PID:-}" ] && { stop_process "$CHURN_PID" 5 || fail_soft "churn peer exited $?"; }
  ringtun_config "$conf" name="$RT_IF" private_key_file="$NETNS_TMP/churn$k.key" \
    address="10.100.1.$k/24" public_key="$(cat "$NETNS_TMP/rtb.pub")" \
    endpoint="$OUTER_B4_C:$TUN_PORT" allowed_ips="$TUN_B4/32"
  start_ringtun "$NS_C" "$conf" "$log"
  CHURN_PID=$RINGTUN_PID
  wait_for_ringtun "$NS_C" "$CHURN_PID" "$log" "10.100.1.$k"
  ping_ok "$NS_C" "$TUN_B4" 1 5 >/dev/null
}

# Moves A's outer IPv4 address between OUTER_A4 and .11 (removed, then the other added, as a
# new DHCP lease does; added first, the new one would be a secondary address that goes with
# the primary); B learns the new source from A's next authenticated packet. Succeeds once B
# answers a ping from A within 5 s.
roam_a() {
  local from=$1 to=$2 t0
  t0=$(now_ms)
  ip -n "$NS_A" addr del "$from/24" dev veth0
  ip -n "$NS_A" addr add "$to/24" dev veth0
  ping_ok "$NS_A" "$TUN_B4" 1 5 >/dev/null || return 1
  event "roam: A $from -> $to, B answered after $(($(now_ms) - t0)) ms"
}

netns_pair
RT_IF=rtb0
make_keypair rta
make_keypair rtb
ringtun_side_config a
ringtun_side_config b
churn_setup
start_sides_b_then_a
ping_ok "$NS_A" "$TUN_B4" 3 10 || netns_fail "no ping through the pair"
event "soak: $DURATION s, $RINGTUN, A=$RINGTUN_PID_A B=$RINGTUN_PID_B, ASAN_OPTIONS=$ASAN_OPTIONS"

stream_start "$NS_A" "$NS_B" "$TUN_B4" $((2 << 20)) $((DURATION + 120))
iperf3_server "$NS_B"
ip netns exec "$NS_A" timeout -k 5 $((DURATION + 60)) iperf3 -c "$TUN_B4" -p "$IPERF3_PORT" \
  --bidir -b "$SOAK_RATE" -t "$DURATION" --json --connect-timeout 5000 \
  >"$SOAK_OUT/iperf3.json" 2>"$SOAK_OUT/iperf3.err" &
IPERF_PID=$!
netns_track "$IPERF_PID"

echo "seconds,rss_a_kib,rss_b_kib,stream_bytes" >"$SOAK_OUT/rss.csv"
t_start=$(now_ms) next_sample=0 next_minute=60 next_roam=$SOAK_ROAM_SECS
next_churn=$SOAK_CHURN_SECS churn_k=0 churns=0 roams=0 a_addr=$OUTER_A4 a_other=10.99.0.11
while :; do
  t=$((($(now_ms) - t_start) / 1000))
  [ "$t" -lt "$DURATION" ] || break
  netns_alive "$RINGTUN_PID_A" && netns_alive "$RINGTUN_PID_B" ||
    { fail_soft "a daemon died at ${t}s"; break; }
  if [ "$t" -ge "$next_sample" ]; then
    echo "$t,$(rss_kib "$RINGTUN_PID_A"),$(rss_kib "$RINGTUN_PID_B"),$(stream_progress)" \
      >>"$SOAK_OUT/rss.csv"
    next_sample=$((next_sample + 10))
  fi
  if [ "$t" -ge "$next_minute" ]; then
    kill -USR1 "$RINGTUN_PID_A" "$RINGTUN_PID_B"
    kill -HUP "$RINGTUN_PID_A" "$RINGTUN_PID_B"
    next_minute=$((next_minute + 60))
  fi
  if [ "$t" -ge "$next_roam" ]; then
    if roam_a "$a_addr" "$a_other"; then roams=$((roams + 1)); else
      fail_soft "roam $a_addr -> $a_other: B did not answer within 5 s"
    fi
    read -r a_addr a_other <<<"$a_other $a_addr"
    next_roam=$((next_roam + SOAK_ROAM_SECS))
  fi
  if [ "$t" -ge "$next_churn" ]; then
    churn_k=$((churn_k % SOAK_CHURN_PEERS + 1))
    if churn_peer "$churn_k"; then churns=$((churns + 1)); else
      fail_soft "churn peer $churn_k: no ping through B within 5 s"
    fi
    next_churn=$((next_churn + SOAK_CHURN_SECS))
  fi
  sleep 1
done
event "soak: traffic phase over after $((($(now_ms) - t_start) / 1000)) s"

rc=0
wait "$IPERF_PID" || rc=$?
[ $rc -eq 0 ] || fail_soft "iperf3 exited $rc: $(tail -c 300 "$SOAK_OUT/iperf3.err")"
# Not in a pipeline: a subshell could not wait for the stream's processes.
stream_stop "through the soak" >"$SOAK_OUT/stream.txt"
event "$(cat "$SOAK_OUT/stream.txt")"
for side in a b; do
  pid_var=RINGTUN_PID_${side^^}
  ringtun_stats "${!pid_var}" "$NETNS_TMP/ringtun-$side.log" >"$SOAK_OUT/stats-$side.txt" ||
    fail_soft "no statistics from $side"
done
# A rekeys with B once a session is REKEY_AFTER_TIME (120 s) old, whichever side begins (and
# a few seconds later: the handshake's jitter and round trip); A's handshakes are all with B
# (the churn peers are B's). Without rekeys A would count the first handshake alone.
handshakes=$(stats_handshakes completed <"$SOAK_OUT/stats-a.txt")
event "handshakes completed by A with B: ${handshakes:-none}"
[ "${handshakes:-0}" -ge $((1 + DURATION / 130)) ] ||
  fail_soft "A completed ${handshakes:-no} handshakes with B in $DURATION s, fewer than the first and a rekey every 120 s: $((1 + DURATION / 130))"
# Stopped here, not in a subshell, which could not wait for them; exit 0 also means
# LeakSanitizer found nothing.
for pid in ${CHURN_PID:-} "$RINGTUN_PID_A" "$RINGTUN_PID_B"; do
  rc=0
  stop_process "$pid" 15 || rc=$?
  [ $rc -eq 0 ] || fail_soft "ringtun $pid exited with status $rc after SIGTERM"
done
cp "$NETNS_TMP"/ringtun-*.log "$SOAK_OUT/"

python3 "$root/scripts/soak_report.py" "$SOAK_OUT" --warmup "$SOAK_WARMUP" \
  --roams "$roams" --churns "$churns" || failures+=("see the report")
if [ ${#failures[@]} -gt 0 ]; then
  printf 'soak FAILED: %s\n' "${failures[@]}" >&2
  exit 1
fi
echo "soak: passed; results in $SOAK_OUT"
