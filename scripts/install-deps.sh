#!/usr/bin/env bash
# Installs the Debian bookworm packages ringtun needs to build, test, package and run its demo.
# Idempotent and quick when everything is present; needs root only when something is missing.
#
#   scripts/install-deps.sh           # build, tests, demo
#   scripts/install-deps.sh --bench   # also what bench/ uses beyond the tests: gnuplot for
#                                     # the chart, ethtool for the TUN offload column, perf
#                                     # for bench/profile.sh, openssl for bench/scale.sh's
#                                     # X25519 ceiling (`openssl speed`)
set -euo pipefail

packages=(
  g++ cmake make pkg-config
  clang libclang-rt-dev  # the fuzz targets: clang with libFuzzer
  liburing-dev libssl-dev libnl-3-dev libnl-route-3-dev libtomlplusplus-dev doctest-dev
  iproute2 iputils-ping iperf3 wireguard-tools wireguard-go procps psmisc kmod python3
  dpkg-dev lintian file  # scripts/package.sh and package.deb: dpkg-shlibdeps, lintian
)
case ${1:-} in
  "") ;;
  --bench) packages+=(gnuplot-nox ethtool linux-perf openssl) ;;
  *) echo "usage: scripts/install-deps.sh [--bench]" >&2 && exit 2 ;;
esac

# promtool, which checks the metrics endpoint's output (netns.metrics), is in Debian's
# prometheus package; installing that package would also start a Prometheus server, so the
# binary is taken out of the downloaded package into a cache of test tools instead.
tools_dir=/var/cache/ringtun/tools
promtool=$tools_dir/usr/bin/promtool
extract_promtool() {
  [ -x "$promtool" ] && return 0
  local tmp
  tmp=$(mktemp -d)
  chown _apt "$tmp" 2>/dev/null || true  # apt downloads as _apt where it can
  echo "install-deps: fetching promtool from Debian's prometheus package"
  if ! (cd "$tmp" && apt-get download -q prometheus); then
    [ -z "${updated:-}" ] || exit 1
    apt-get update -q  # a fresh machine may have no package lists yet
    (cd "$tmp" && apt-get download -q prometheus)
  fi
  mkdir -p "$tools_dir"
  dpkg-deb --fsys-tarfile "$tmp"/prometheus_*.deb | tar -x -C "$tools_dir" ./usr/bin/promtool
  rm -rf "$tmp"
  "$promtool" --version >/dev/null
}

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ] && [ -x "$promtool" ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing: ${missing[*]} ${promtool}; run as root to install them" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if [ ${#missing[@]} -ne 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  apt-get update -q
  updated=1
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
extract_promtool
