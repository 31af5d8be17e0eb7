#!/usr/bin/env bash
# Installs the Debian bookworm packages ringtun needs to build, test, package and run its demo.
# Idempotent and quick when everything is present; needs root only when something is missing.
#
#   scripts/install-deps.sh           # build, tests, demo
#   scripts/install-deps.sh --bench   # also what bench/ uses beyond the tests: gnuplot for
#                                     # the chart, ethtool for the TUN offload column, perf
#                                     # for bench/profile.sh
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
  --bench) packages+=(gnuplot-nox ethtool linux-perf) ;;
  *) echo "usage: scripts/install-deps.sh [--bench]" >&2 && exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}; run as root to install them" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
