#!/usr/bin/env bash
# The Debian package: scripts/package.sh builds it (in build-deb/, leaving build/ and
# build-asan/ alone); it holds the stripped binary, the unit naming it, both man pages
# compressed, the example, the copyright and changelog, and /etc/ringtun (0700); its control
# fields are right; lintian finds no error. Prints lintian's output and the package's size.
set -euo pipefail
: "${RINGTUN_SRC:?source tree}"
for tool in cmake cpack dpkg dpkg-deb dpkg-shlibdeps dpkg-buildflags lintian flock; do
  command -v "$tool" >/dev/null || { echo "$tool not installed" >&2; exit 77; }
done
fail() { echo "FAIL: $*" >&2; exit 1; }

log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$RINGTUN_SRC/scripts/package.sh" >"$log" 2>&1 || { cat "$log" >&2; fail "scripts/package.sh"; }
deb=$(tail -n 1 "$log")
[ -f "$deb" ] || { cat "$log" >&2; fail "scripts/package.sh printed no .deb: $deb"; }
version=$(sed -n 's/^project(ringtun VERSION \([0-9.]*\).*/\1/p' "$RINGTUN_SRC/CMakeLists.txt")
[ "$(basename "$deb")" = "ringtun_${version}_$(dpkg --print-architecture).deb" ] ||
  fail "unexpected file name $deb (version $version)"

# Contents: path and mode.
contents=$(dpkg -c "$deb")
has() { # MODE PATH
  grep -qE "^$1 root/root +[0-9]+ [0-9-]+ [0-9:]+ \./$2\$" <<<"$contents" ||
    fail "dpkg -c lists no $1 ./$2"
}
has -rwxr-xr-x usr/sbin/ringtun
has -rw-r--r-- '(usr/)?lib/systemd/system/ringtun@\.service'   # bookworm: lib/
has -rw-r--r-- 'usr/share/man/man8/ringtun\.8\.gz'
has -rw-r--r-- 'usr/share/man/man5/ringtun\.toml\.5\.gz'
has -rw-r--r-- 'usr/share/doc/ringtun/examples/rt0\.toml'
has -rw-r--r-- 'usr/share/doc/ringtun/README\.md'
has -rw-r--r-- 'usr/share/doc/ringtun/copyright'
has -rw-r--r-- 'usr/share/doc/ringtun/changelog\.gz'
has drwx------ 'etc/ringtun/'
! grep -q '\./etc/ringtun/.' <<<"$contents" || fail "/etc/ringtun is not empty"

dir=$(mktemp -d)
trap 'rm -f "$log"; rm -rf "$dir"' EXIT
dpkg-deb -x "$deb" "$dir"
file "$dir/usr/sbin/ringtun" | grep -q ', stripped' || fail "usr/sbin/ringtun is not stripped"
unit=$(find "$dir" -path '*/lib/systemd/system/ringtun@.service')
grep -qx 'ExecStart=/usr/sbin/ringtun run --name=%i /etc/ringtun/%i.toml' "$unit" ||
  fail "the packaged unit does not run /usr/sbin/ringtun"
"$dir/usr/sbin/ringtun" --version | grep -qF "$version" || fail "ringtun --version is not $version"
cmp -s <(gzip -dc "$dir/usr/share/man/man8/ringtun.8.gz") "$RINGTUN_SRC/docs/man/man8/ringtun.8" ||
  fail "ringtun.8.gz is not docs/man/man8/ringtun.8"

# Control fields.
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = ringtun ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$version" ] || fail "Version: $(field Version)"
[ "$(field Section)" = net ] || fail "Section: $(field Section)"
[ "$(field Priority)" = optional ] || fail "Priority: $(field Priority)"
[ "$(field Recommends)" = wireguard-tools ] || fail "Recommends: $(field Recommends)"
[ -n "$(field Maintainer)" ] || fail "no Maintainer"
depends=$(field Depends)
names=$(sed 's/ *([^)]*)//g; s/, */\n/g' <<<"$depends")
for lib in libc6 libstdc++6 libgcc-s1 liburing2 libssl3 libnl-3-200 libnl-route-3-200; do
  grep -qxF "$lib" <<<"$names" || fail "Depends lacks $lib: $depends"
done
[ "$(field Description | wc -l)" -ge 3 ] || fail "no long description"

# lintian: no error. Everything it says is printed, overridden tags (O:) included.
lint=$(lintian --pedantic --display-info --show-overrides "$deb" 2>&1 |
  grep -v '^running with root privileges' || true)
echo "lintian (--pedantic --display-info --show-overrides):"
echo "${lint:-(nothing)}"
! grep -q '^E:' <<<"$lint" || fail "lintian reports errors"
echo "$(basename "$deb"): $(stat -c %s "$deb") bytes, installed size $(field Installed-Size) KiB;" \
  "Depends: $depends"
