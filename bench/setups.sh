# shellcheck shell=bash disable=SC2034  # BENCH_* are read by run.sh
# The setups bench/run.sh measures, in the order it measures them.
#
# A setup is one BENCH_SETUPS entry "NAME|description" plus a function setup_NAME (dashes in
# NAME become underscores). It runs in a fresh pair of namespaces from tests/netns/lib.sh
# (NS_A, NS_B, joined by veth: OUTER_A4/OUTER_B4), brings up its path from A to B, and sets
# BENCH_DST to B's address that iperf3 and ping in A should use. It may call
# bench_skip "reason" when it cannot run here. Everything it starts through the lib is
# stopped and removed when the setup's measurement ends.

BENCH_SETUPS=(
  "veth|raw veth between the namespaces, no tunnel"
  "wggo|wireguard-go <-> wireguard-go (Debian package), UDP"
  "ringtun-base|baseline ringtun (\$RINGTUN_BASELINE, e.g. a build of an earlier commit), UDP"
  "ringtun|ringtun <-> ringtun, UDP"
  "ringtun-tcp-base|baseline ringtun (\$RINGTUN_BASELINE), TCP transport"
  "ringtun-tcp|ringtun <-> ringtun, TCP transport"
)

setup_veth() {
  BENCH_DST=$OUTER_B4
}

setup_wggo() {
  WGGO_LOG_LEVEL=error wggo_pair
  BENCH_DST=$TUN_B4
}

bench_require_ringtun() {
  [ -n "${RINGTUN:-}" ] && [ -x "$RINGTUN" ] ||
    bench_skip "no ringtun binary (build it, or set RINGTUN)"
  ringtun_has_run || bench_skip "\`ringtun run\` is not available yet in $RINGTUN"
}

setup_ringtun() {
  bench_require_ringtun
  ringtun_pair udp
  BENCH_DST=$TUN_B4
}

# A data-path change is measured against the build before it in the same run: point
# RINGTUN_BASELINE at that build's binary (skipped when unset).
bench_use_baseline() {
  [ -n "${RINGTUN_BASELINE:-}" ] && [ -x "$RINGTUN_BASELINE" ] ||
    bench_skip "no baseline binary (set RINGTUN_BASELINE)"
  RINGTUN=$RINGTUN_BASELINE
}

setup_ringtun_base() {
  bench_use_baseline
  ringtun_pair udp
  BENCH_DST=$TUN_B4
}

setup_ringtun_tcp_base() {
  bench_use_baseline
  ringtun_pair tcp
  BENCH_DST=$TUN_B4
}

setup_ringtun_tcp() {
  bench_require_ringtun
  ringtun_pair tcp
  BENCH_DST=$TUN_B4
}
