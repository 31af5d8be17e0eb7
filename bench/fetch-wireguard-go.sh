#!/usr/bin/env bash
# Fetches Debian bookworm-backports' wireguard-go (the modern anchor for bench/run.sh's
# `wggo-bpo` setup: TUN TSO/USO and UDP GSO/GRO, which bookworm's 0.0.20220316 lacks) into a
# cache directory, without touching the machine's apt configuration:
#
#   bench/fetch-wireguard-go.sh            # fetch unless cached; prints the binary's path
#   bench/fetch-wireguard-go.sh --path     # print the cached binary's path, or exit 1
#
# The cache is $BENCH_CACHE (default ${XDG_CACHE_HOME:-/var/cache}/ringtun-bench), the binary
# $BENCH_CACHE/wireguard-go-0.0.20231211/usr/bin/wireguard-go. A run that finds it (with the
# stamp SOURCE this script writes last) does nothing else.
#
# How: a private sources.list naming only bookworm-backports, signed-by the Debian archive
# keyring, and private lists/cache directories, passed to apt-get with -o
# (Dir::Etc::sourcelist, Dir::Etc::sourceparts=-, Dir::State::Lists, Dir::Cache). `apt-get
# update` checks the InRelease signature against that keyring and the Packages index against
# the InRelease hashes; `apt-get download` checks the .deb against the index's SHA256 and
# refuses an unauthenticated one. The script then checks again on its own (gpgv on the
# InRelease, sha256sum of the .deb against the index) and writes what it saw to SOURCE.
# `dpkg -x` unpacks the .deb into the cache: nothing is installed.
#
# Exit 0 with the path on stdout; 77 when it cannot run here (no apt-get/dpkg/gpgv, no
# keyring, cache not writable); 1 when the fetch or a check fails.
set -euo pipefail

version=0.0.20231211
deb_version="${WGGO_BPO_DEB_VERSION:-$version-1~bpo12+1}"
suite=bookworm-backports
mirror=${WGGO_BPO_MIRROR:-http://deb.debian.org/debian}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
cache=${BENCH_CACHE:-${XDG_CACHE_HOME:-/var/cache}/ringtun-bench}
dest="$cache/wireguard-go-$version"
bin="$dest/usr/bin/wireguard-go"

skip() {
  echo "SKIP: fetch-wireguard-go: $*" >&2
  exit 77
}
fail() {
  echo "fetch-wireguard-go: $*" >&2
  exit 1
}

if [ -x "$bin" ] && [ -s "$dest/SOURCE" ]; then
  echo "$bin"
  exit 0
fi
[ "${1:-}" = --path ] && exit 1

for cmd in apt-get apt-cache dpkg-deb gpgv sha256sum; do
  command -v "$cmd" >/dev/null || skip "$cmd is not installed"
done
[ -r "$keyring" ] || skip "no $keyring (package debian-archive-keyring)"
if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then skip "cannot write to $cache"; fi

work=$(mktemp -d "$cache/.fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
chmod 755 "$work"
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/deb"
echo "deb [signed-by=$keyring] $mirror $suite main" >"$work/sources.list"
# apt drops privileges to _apt for downloads: let it write where it downloads.
if id _apt >/dev/null 2>&1; then
  chown -R _apt "$work/lists/partial" "$work/cache/archives/partial" "$work/deb" 2>/dev/null || true
fi
apt_opts=(
  -o "Dir::Etc::sourcelist=$work/sources.list"
  -o Dir::Etc::sourceparts=-
  -o "Dir::State::Lists=$work/lists"
  -o "Dir::Cache=$work/cache"
  -o Dir::Cache::pkgcache=
  -o Dir::Cache::srcpkgcache=
  -o Acquire::Languages=none
  -o APT::Get::List-Cleanup=false
)

echo "fetch-wireguard-go: apt-get update ($suite only, private lists)" >&2
# Bounded: apt's own timeouts apply per connection; the whole update gets 5 minutes.
timeout 300 apt-get -q "${apt_opts[@]}" update >"$work/update.log" 2>&1 ||
  { cat "$work/update.log" >&2; fail "apt-get update of $suite failed"; }
if grep -qE '^(W|E): ' "$work/update.log"; then
  cat "$work/update.log" >&2
  fail "apt-get update reported a problem (see above)"
fi

show=$(apt-cache "${apt_opts[@]}" show "wireguard-go=$deb_version" 2>/dev/null) ||
  fail "$suite has no wireguard-go $deb_version; it has: $(apt-cache "${apt_opts[@]}" madison wireguard-go | awk -F'|' '{gsub(/ /,"",$2); printf "%s ", $2}')"
filename=$(sed -n 's/^Filename: //p' <<<"$show" | head -n 1)
sha256=$(sed -n 's/^SHA256: //p' <<<"$show" | head -n 1)
if [ -z "$filename" ] || [ -z "$sha256" ]; then
  fail "no Filename/SHA256 for wireguard-go $deb_version"
fi

echo "fetch-wireguard-go: apt-get download wireguard-go=$deb_version" >&2
(cd "$work/deb" && timeout 300 apt-get -q "${apt_opts[@]}" download "wireguard-go=$deb_version") \
  >"$work/download.log" 2>&1 || { cat "$work/download.log" >&2; fail "apt-get download failed"; }
deb=$(find "$work/deb" -maxdepth 1 -name 'wireguard-go_*.deb' | head -n 1)
[ -n "$deb" ] || fail "apt-get download left no .deb"

# Our own second look at what apt checked.
inrelease=$(find "$work/lists" -maxdepth 1 -name "*_dists_${suite}_InRelease" | head -n 1)
[ -n "$inrelease" ] || fail "no InRelease file in the private lists"
gpgv --keyring "$keyring" "$inrelease" >"$work/gpgv.log" 2>&1 ||
  { cat "$work/gpgv.log" >&2; fail "gpgv: bad or missing signature on $suite InRelease"; }
got=$(sha256sum "$deb" | awk '{print $1}')
[ "$got" = "$sha256" ] || fail "SHA256 of $deb is $got, the signed index says $sha256"
pkg=$(dpkg-deb -f "$deb" Package) ver=$(dpkg-deb -f "$deb" Version)
if [ "$pkg" != wireguard-go ] || [ "$ver" != "$deb_version" ]; then
  fail "the .deb is $pkg $ver, not wireguard-go $deb_version"
fi

rm -rf "$dest"
mkdir -p "$dest"
dpkg-deb -x "$deb" "$dest"
cp "$deb" "$dest/"
[ -x "$bin" ] || fail "the .deb has no usr/bin/wireguard-go"
{
  echo "package: wireguard-go $deb_version ($suite, main, $(dpkg-deb -f "$deb" Architecture))"
  echo "url: $mirror/$filename"
  echo "sha256: $got (matches the Packages index, whose hash is in the signed InRelease)"
  echo "InRelease: $(sed -n 's/^Date: //p' "$inrelease" | head -n 1)"
  grep -E 'Good signature|using .* key' "$work/gpgv.log" | sed 's/^gpgv: /gpgv: /'
  echo "keyring: $keyring"
  echo "built-using: $(dpkg-deb -f "$deb" Built-Using)"
  # Upstream's version string was not bumped for the 0.0.20231211 tag: it says 0.0.20230223.
  echo "binary says: $("$bin" --version 2>/dev/null | head -n 1)"
  echo "fetched: $(date -u '+%Y-%m-%d %H:%M UTC')"
} >"$dest/SOURCE.tmp"
mv "$dest/SOURCE.tmp" "$dest/SOURCE"
cat "$dest/SOURCE" >&2
echo "$bin"
