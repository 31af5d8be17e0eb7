# shellcheck shell=bash disable=SC2034,SC2154  # BENCH_* are read by run.sh, which sets repo
# The setups bench/run.sh measures, in the order it measures them.
#
# A setup is one BENCH_SETUPS entry "NAME|description" plus a function setup_NAME (dashes in
# NAME become underscores). It runs in a fresh pair of namespaces from tests/netns/lib.sh
# (NS_A, NS_B, joined by veth: OUTER_A4/OUTER_B4), brings up its path from A to B, and sets
# BENCH_DST to B's address that iperf3 and ping in A should use; a tunnel also sets
# BENCH_PID_A / BENCH_PID_B (its processes, whose peak RSS is reported) and BENCH_TUN_A (its
# interface in NS_A, whose offload features `ethtool -k` shows). It may call
# bench_skip "reason" when it cannot run here. Everything it starts through the lib is
# stopped and removed when the setup's measurement ends.

BENCH_SETUPS=(
  "veth|raw veth between the namespaces, no tunnel"
  "wggo|wireguard-go 0.0.20220316 (Debian bookworm's package) <-> the same, UDP; no offloads"
  "wggo-bpo|wireguard-go 0.0.20231211 (bookworm-backports, bench/fetch-wireguard-go.sh) <-> the same, UDP; TUN TSO/USO, UDP GSO/GRO"
  "ringtun-base|baseline ringtun (\$RINGTUN_BASELINE, e.g. a build of an earlier commit), UDP"
  "ringtun|ringtun <-> ringtun, UDP"
  "ringtun-epoll|ringtun <-> ringtun, UDP, both on the epoll backend ([ring] backend = \"epoll\")"
  "ringtun-nooff|ringtun <-> ringtun, UDP, every [offload] switch \"off\" (skipped by a build that refuses the section)"
  "ringtun-tcp-base|baseline ringtun (\$RINGTUN_BASELINE), TCP transport"
  "ringtun-tcp|ringtun <-> ringtun, TCP transport"
  "ringtun-tcp-epoll|ringtun <-> ringtun, TCP transport, both on the epoll backend"
  "ringtun-tcp-nooff|ringtun <-> ringtun, TCP transport, every [offload] switch \"off\" (skipped by a build that refuses the section)"
)

setup_veth() {
  BENCH_DST=$OUTER_B4
}

setup_wggo() {
  WGGO_LOG_LEVEL=error wggo_pair
  bench_tunnel "$WGGO_PID_A" "$WGGO_PID_B" "$WG_A"
}

# The backports binary, fetched by run.sh (bench/fetch-wireguard-go.sh) before the setups run;
# the lib starts `wireguard-go` from PATH.
setup_wggo_bpo() {
  local bin
  bin=$("$repo/bench/fetch-wireguard-go.sh" --path) ||
    bench_skip "no bookworm-backports wireguard-go (bench/fetch-wireguard-go.sh could not fetch it)"
  PATH="${bin%/*}:$PATH"
  WGGO_LOG_LEVEL=error wggo_pair
  [ "$(readlink "/proc/$WGGO_PID_A/exe")" = "$bin" ] ||
    netns_fail "wggo-bpo: A runs $(readlink "/proc/$WGGO_PID_A/exe"), not $bin"
  bench_tunnel "$WGGO_PID_A" "$WGGO_PID_B" "$WG_A"
}

# BENCH_PID_A=PID_A BENCH_PID_B=PID_B BENCH_TUN_A=IFNAME BENCH_DST=TUN_B4.
bench_tunnel() {
  BENCH_PID_A=$1 BENCH_PID_B=$2 BENCH_TUN_A=$3 BENCH_DST=$TUN_B4
}

bench_require_ringtun() {
  if [ -z "${RINGTUN:-}" ] || [ ! -x "$RINGTUN" ]; then
    bench_skip "no ringtun binary (build it, or set RINGTUN)"
  fi
  ringtun_has_run || bench_skip "\`ringtun run\` is not available yet in $RINGTUN"
}

setup_ringtun() {
  bench_require_ringtun
  ringtun_pair udp
  bench_tunnel "$RINGTUN_PID_A" "$RINGTUN_PID_B" "$RT_IF"
}

# The same on the readiness loop: lib_tunnels.sh gives every config [ring] backend = "epoll".
setup_ringtun_epoll() {
  bench_require_ringtun
  RINGTUN_BACKEND=epoll ringtun_pair udp
  bench_tunnel "$RINGTUN_PID_A" "$RINGTUN_PID_B" "$RT_IF"
}

# The [offload] section that turns every offload off (keys of issue 8: each "auto", "on" or
# "off"), or only those $BENCH_OFFLOAD_OFF names (e.g. "tun_gro udp_gro": what each step buys).
bench_offload_off_toml() {
  printf '\n[offload]\n'
  # shellcheck disable=SC2086  # a list of keys
  printf '%s = "off"\n' ${BENCH_OFFLOAD_OFF:-tun_tso tun_uso tun_gro udp_gso udp_gro}
}

# ringtun_pair TRANSPORT with bench_offload_off_toml appended to both configs. A build that
# refuses the section (`ringtun check` fails) skips the row and says why.
bench_ringtun_nooff() {
  local transport=$1 side msg
  bench_require_ringtun
  RT_IF=${RT_IF:-rtb0}
  make_keypair rta
  make_keypair rtb
  for side in a b; do
    ringtun_side_config "$side" "$transport"
    bench_offload_off_toml >>"$NETNS_TMP/ringtun-$side.toml"
    if ! "$RINGTUN" check "$NETNS_TMP/ringtun-$side.toml" >"$NETNS_TMP/check-$side.log" 2>&1; then
      msg=$(head -n 1 "$NETNS_TMP/check-$side.log")
      bench_skip "\`ringtun check\` refuses the config with every [offload] switch off: ${msg#"$NETNS_TMP/"}"
    fi
  done
  start_sides_b_then_a
  bench_tunnel "$RINGTUN_PID_A" "$RINGTUN_PID_B" "$RT_IF"
}

setup_ringtun_nooff() { bench_ringtun_nooff udp; }
setup_ringtun_tcp_nooff() { bench_ringtun_nooff tcp; }

# A data-path change is measured against the build before it in the same run: point
# RINGTUN_BASELINE at that build's binary (skipped when unset).
bench_use_baseline() {
  if [ -z "${RINGTUN_BASELINE:-}" ] || [ ! -x "$RINGTUN_BASELINE" ]; then
    bench_skip "no baseline binary (set RINGTUN_BASELINE)"
  fi
  RINGTUN=$RINGTUN_BASELINE
}

setup_ringtun_base() {
  bench_use_baseline
  ringtun_pair udp
  bench_tunnel "$RINGTUN_PID_A" "$RINGTUN_PID_B" "$RT_IF"
}

setup_ringtun_tcp_base() {
  bench_use_baseline
  ringtun_pair tcp
  bench_tunnel "$RINGTUN_PID_A" "$RINGTUN_PID_B" "$RT_IF"
}

setup_ringtun_tcp() {
  bench_require_ringtun
  ringtun_pair tcp
  bench_tunnel "$RINGTUN_PID_A" "$RINGTUN_PID_B" "$RT_IF"
}

setup_ringtun_tcp_epoll() {
  bench_require_ringtun
  RINGTUN_BACKEND=epoll ringtun_pair tcp
  bench_tunnel "$RINGTUN_PID_A" "$RINGTUN_PID_B" "$RT_IF"
}

# Shared by bench/run.sh and bench/flows.sh: waits (up to 30 s) for a 1 s window in which the
# machine is busy with less than $BENCH_QUIET_CORES (default 0.25) cores, so other work
# disturbs the figures less. Prints the busy cores of the last window.
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
