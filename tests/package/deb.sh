#!/usr/bin/env bash
# The Debian package: scripts/package.sh builds it (in build-deb/, leaving build/ and
# build-asan/ alone); it holds the stripped binary, the unit naming it, the sysusers.d file of
# its user, both man pages compressed, the example, the copyright and changelog, and
# /etc/ringtun (0700); its control fields are right; its maintainer scripts (prerm, postinst,
# postrm) are sh, call what they should under systemd (the user made, /etc/ringtun given to
# its group by a statoverride, systemd reloaded), the user and statoverride only without it
# and nothing for another root, and dpkg installs,
# reinstalls, removes and purges the package in a throwaway root (as root); lintian finds no
# error. Prints lintian's output and the package's size.
# Also, without building: the unit's paths follow the prefix, at configure time (a throwaway
# configure for /usr/local; build-deb/ is /usr's) and at install time (install-system.cmake
# run alone for /usr/local, /opt/ringtun and /usr).
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
has -rw-r--r-- 'usr/lib/sysusers\.d/ringtun\.conf'
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
# unit_paths UNIT SBINDIR CONFDIR: the unit runs SBINDIR/ringtun on CONFDIR/%i.toml and names
# no other configuration directory.
unit_paths() {
  [ -f "$1" ] || fail "no unit $1"
  grep -qxF "ExecStart=$2/ringtun run --name=%i $3/%i.toml" "$1" ||
    fail "$1: $(grep ^ExecStart= "$1"), not $2/ringtun on $3/%i.toml"
  grep -qxF "ExecReload=$2/ringtun reload %i" "$1" || fail "$1: $(grep ^ExecReload= "$1")"
  ! sed "s|$3||g" "$1" | grep -q /etc/ringtun || fail "$1 names /etc/ringtun besides $3"
}
unit_paths "$(dirname "$deb")/systemd/ringtun@.service" /usr/sbin /etc/ringtun
timeout 120 cmake -S "$RINGTUN_SRC" -B "$dir/local" -DCMAKE_INSTALL_PREFIX=/usr/local \
  -DRINGTUN_TESTS=OFF >"$log" 2>&1 || { cat "$log" >&2; fail "configure for /usr/local"; }
unit_paths "$dir/local/systemd/ringtun@.service" /usr/local/sbin /usr/local/etc/ringtun
# install_paths PREFIX UNITDIR SBINDIR CONFDIR SYSUSERSDIR: `cmake --install --prefix PREFIX`
# of that build puts the unit in UNITDIR, naming SBINDIR and CONFDIR, the user's sysusers.d
# file in SYSUSERSDIR, and makes CONFDIR (0700).
install_paths() {
  local root=$dir/root$RANDOM
  DESTDIR=$root timeout 60 cmake -DCMAKE_INSTALL_PREFIX="$1" \
    -P "$dir/local/packaging/install-system.cmake" >"$log" 2>&1 ||
    { cat "$log" >&2; fail "install-system.cmake for $1"; }
  unit_paths "$root$2/ringtun@.service" "$3" "$4"
  [ "$(stat -c %a "$root$4")" = 700 ] || fail "$4 (prefix $1) is not 0700"
  cmp -s "$root$5/ringtun.conf" "$RINGTUN_SRC/packaging/sysusers/ringtun.conf" ||
    fail "no sysusers.d file $5/ringtun.conf (prefix $1)"
}
install_paths /usr/local /usr/local/lib/systemd/system /usr/local/sbin /usr/local/etc/ringtun \
  /usr/local/lib/sysusers.d
install_paths /opt/ringtun /opt/ringtun/lib/systemd/system /opt/ringtun/sbin \
  /etc/opt/ringtun/ringtun /opt/ringtun/lib/sysusers.d
install_paths /usr "$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null ||
  echo /usr/lib/systemd/system)" /usr/sbin /etc/ringtun \
  "$(pkg-config --variable=sysusersdir systemd 2>/dev/null || echo /usr/lib/sysusers.d)"

dpkg-deb -x "$deb" "$dir/deb"
file "$dir/deb/usr/sbin/ringtun" | grep -q ', stripped' || fail "usr/sbin/ringtun is not stripped"
unit_paths "$(find "$dir/deb" -path '*/lib/systemd/system/ringtun@.service')" /usr/sbin /etc/ringtun
"$dir/deb/usr/sbin/ringtun" --version | grep -qF "$version" || fail "ringtun --version is not $version"
cmp -s <(gzip -dc "$dir/deb/usr/share/man/man8/ringtun.8.gz") "$RINGTUN_SRC/docs/man/man8/ringtun.8" ||
  fail "ringtun.8.gz is not docs/man/man8/ringtun.8"

# Control fields.
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = ringtun ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$version" ] || fail "Version: $(field Version)"
[ "$(field Section)" = net ] || fail "Section: $(field Section)"
[ "$(field Priority)" = optional ] || fail "Priority: $(field Priority)"
[ "$(field Recommends)" = wireguard-tools ] || fail "Recommends: $(field Recommends)"
sysusers_dep="systemd | systemd-standalone-sysusers | systemd-sysusers"
[ -n "$(field Maintainer)" ] || fail "no Maintainer"
depends=$(field Depends)
names=$(sed 's/ *([^)]*)//g; s/, */\n/g' <<<"$depends")
for lib in libc6 libstdc++6 libgcc-s1 liburing2 libssl3 libnl-3-200 libnl-route-3-200 \
  "$sysusers_dep"; do
  grep -qxF "$lib" <<<"$names" || fail "Depends lacks $lib: $depends"
done
[ "$(field Description | wc -l)" -ge 3 ] || fail "no long description"

# Maintainer scripts: prerm, postinst and postrm, executable, POSIX sh with set -e.
info=$(dpkg-deb -I "$deb")
dpkg-deb -e "$deb" "$dir/control"
for script in prerm postinst postrm; do
  grep -qE "^ +[0-9]+ bytes, +[0-9]+ lines +\* +$script +#!/bin/sh\$" <<<"$info" ||
    fail "dpkg-deb -I shows no executable #!/bin/sh $script: $info"
  [ "$(stat -c %a "$dir/control/$script")" = 755 ] || fail "$script is not 0755"
  sh -n "$dir/control/$script" || fail "sh -n $script"
  grep -qx 'set -e' "$dir/control/$script" || fail "$script has no set -e"
done
# What they do, with systemctl, deb-systemd-invoke, systemd-sysusers and dpkg-statoverride
# replaced by stand-ins that log their arguments, in a mount namespace whose own /run has
# /run/systemd/system (systemd running) or not: actions.sh runs each script as dpkg would and
# prints "SCRIPT ARGS: CALLS". The dpkg-statoverride stand-in keeps whether an override was
# added (--list fails until --add, and again after --remove).
mkdir "$dir/bin"
for cmd in systemctl deb-systemd-invoke systemd-sysusers dpkg-statoverride; do
  # shellcheck disable=SC2016  # expanded by the stand-in
  printf '#!/bin/sh\necho "%s $*" >>"$RINGTUN_CALLS"\n' "$cmd" >"$dir/bin/$cmd"
  chmod 755 "$dir/bin/$cmd"
done
# shellcheck disable=SC2016  # expanded by the stand-in
cat >>"$dir/bin/dpkg-statoverride" <<'STAND_IN'
case $1 in
  --list) [ -e "$RINGTUN_CALLS.override" ] ;;
  --update) : >"$RINGTUN_CALLS.override" ;;
  --remove) rm -f "$RINGTUN_CALLS.override" ;;
esac
STAND_IN
export RINGTUN_CALLS=$dir/calls
cat >"$dir/actions.sh" <<ACTIONS
for a in 'prerm remove' 'prerm upgrade $version' 'postinst configure' \\
  'postinst configure 0.0.1' 'postinst abort-upgrade $version' 'postrm remove' \\
  'postrm purge' 'postrm upgrade $version'; do
  : >"\$RINGTUN_CALLS"
  set -- \$a
  script=\$1
  shift
  PATH="$dir/bin:\$PATH" sh "$dir/control/\$script" "\$@" || echo "\$a: exit \$?"
  echo "\$a: \$(paste -sd '|' "\$RINGTUN_CALLS")"
done
ACTIONS
# in_run SYSTEMD CMD...: CMD with a private, empty /run, holding /run/systemd/system if
# SYSTEMD is 1, and a private /etc: the machine's with what CMD writes kept in that /run (an
# overlay), and in it the group ringtun (the stand-in systemd-sysusers makes none) and
# /etc/ringtun, which the package ships, as root:root 0700 and empty. Nothing of it is seen
# outside, so postinst never touches the machine's /etc/ringtun.
in_run() {
  # shellcheck disable=SC2016  # expanded by the inner sh
  unshare -m sh -c 'mount -t tmpfs ringtun-test /run && { [ "$0" = 0 ] ||
    mkdir -p /run/systemd/system; } && mkdir /run/etc-upper /run/etc-work &&
    mount -t overlay ringtun-etc -o lowerdir=/etc,upperdir=/run/etc-upper,workdir=/run/etc-work /etc &&
    { grep -q "^ringtun:" /etc/group || echo "ringtun:x:64998:" >>/etc/group; } &&
    rm -rf /etc/ringtun && install -d -o root -g root -m 0700 /etc/ringtun && exec "$@"' "$@"
}
if [ "$(id -u)" = 0 ] && in_run 0 true 2>/dev/null; then
  user="systemd-sysusers ringtun.conf|dpkg-statoverride --list /etc/ringtun"
  added="$user|dpkg-statoverride --update --add root ringtun 0750 /etc/ringtun"
  expected="prerm remove: deb-systemd-invoke stop ringtun@*.service
prerm upgrade $version: 
postinst configure: $added|systemctl --system daemon-reload
postinst configure 0.0.1: $user|systemctl --system daemon-reload|deb-systemd-invoke try-restart ringtun@*.service
postinst abort-upgrade $version: $user|systemctl --system daemon-reload
postrm remove: systemctl --system daemon-reload
postrm purge: dpkg-statoverride --list /etc/ringtun|dpkg-statoverride --remove /etc/ringtun|systemctl --system daemon-reload
postrm upgrade $version: "
  rm -f "$RINGTUN_CALLS.override"
  got=$(in_run 1 sh "$dir/actions.sh")
  [ "$got" = "$expected" ] || fail "maintainer scripts under systemd:"$'\n'"$got"
  # Without systemd running: the user and the statoverride all the same, no systemctl.
  # shellcheck disable=SC2001  # per line
  without=$(sed 's/|*\(systemctl\|deb-systemd-invoke\) [^|]*//g; s/: |/: /' <<<"$expected")
  got=$(in_run 0 sh "$dir/actions.sh")
  [ "$got" = "$without" ] || fail "maintainer scripts without systemd:"$'\n'"$got"
  # shellcheck disable=SC2001  # per line
  none=$(sed 's/: .*/: /' <<<"$expected")
  got=$(DPKG_ROOT=/nonexistent in_run 1 sh "$dir/actions.sh")
  [ "$got" = "$none" ] || fail "maintainer scripts with DPKG_ROOT set:"$'\n'"$got"
  # The upgrade from a ringtun that ran as root (no statoverride yet): the files of root's
  # alone in /etc/ringtun become readable by group ringtun and are named; nothing else changes:
  # not a file the group root may read, not another owner's, not one in a subdirectory or
  # behind a symbolic link, and not a file made root's alone again once the override exists
  # (the next configure).
  cat >"$dir/upgrade.sh" <<UPGRADE
set -e
cd /etc/ringtun
for f in rt0.toml:0600 rt0.key:0400 shared.toml:0640 rt1.toml:0644; do
  install -o root -g root -m \${f#*:} /dev/null \${f%:*}
done
install -o nobody -g root -m 0600 /dev/null nobody.key
install -d -m 0700 keys && install -o root -g root -m 0600 /dev/null keys/rt2.key
ln -s keys/rt2.key link.key
PATH="$dir/bin:\$PATH" sh "$dir/control/postinst" configure 0.1.0 2>"$dir/upgrade.err"
stat -c '%n %U:%G %a' rt0.toml rt0.key shared.toml rt1.toml nobody.key keys/rt2.key
chmod 0600 rt0.toml
PATH="$dir/bin:\$PATH" sh "$dir/control/postinst" configure 0.1.0 2>>"$dir/upgrade.err"
stat -c '%n %U:%G %a' rt0.toml
cat "$dir/upgrade.err"
UPGRADE
  rm -f "$RINGTUN_CALLS.override"
  got=$(in_run 1 sh "$dir/upgrade.sh") || fail "the upgrade's postinst failed: $got"
  expected="rt0.toml root:ringtun 640
rt0.key root:ringtun 440
shared.toml root:root 640
rt1.toml root:root 644
nobody.key nobody:root 600
keys/rt2.key root:root 600
rt0.toml root:ringtun 600
ringtun: /etc/ringtun/rt0.key: now group ringtun may read it (the daemon runs as ringtun)
ringtun: /etc/ringtun/rt0.toml: now group ringtun may read it (the daemon runs as ringtun)"
  [ "$(LC_ALL=C sort <<<"$got")" = "$(LC_ALL=C sort <<<"$expected")" ] ||
    fail "postinst on an upgrade from root's files:"$'\n'"$got"
  rm -f "$RINGTUN_CALLS.override"

  # Installed, reinstalled (the upgrade path: prerm upgrade, postinst configure VERSION),
  # removed and purged by dpkg in a throwaway root (dpkg --root: its own database; the
  # scripts run outside a chroot, which has no shell, with DPKG_ROOT set) under a /run that
  # says systemd is running: every step succeeds and no script calls systemd.
  root=$dir/root
  mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
  : >"$root/var/lib/dpkg/status"
  : >"$RINGTUN_CALLS"
  rdpkg() {
    in_run 1 env PATH="$dir/bin:$PATH" dpkg --root="$root" --log="$dir/dpkg.log" \
      --force-script-chrootless --force-depends "$@" >"$log" 2>&1 ||
      { cat "$log" >&2; fail "dpkg --root $*"; }
  }
  status() { dpkg-query --root="$root" -W -f='${Status}' ringtun 2>/dev/null || true; }
  rdpkg -i "$deb"
  [ "$(status)" = "install ok installed" ] || fail "after dpkg -i: $(status)"
  [ -x "$root/usr/sbin/ringtun" ] || fail "dpkg -i installed no usr/sbin/ringtun"
  [ "$(stat -c %a "$root/etc/ringtun")" = 700 ] || fail "dpkg -i: etc/ringtun is not 0700"
  rdpkg -i "$deb"
  [ "$(status)" = "install ok installed" ] || fail "after reinstalling: $(status)"
  rdpkg -r ringtun
  [ "$(status)" = "deinstall ok config-files" ] || fail "after dpkg -r: $(status)"
  [ ! -e "$root/usr/sbin/ringtun" ] || fail "dpkg -r left usr/sbin/ringtun"
  [ ! -e "$root/etc/ringtun" ] || fail "dpkg -r left the empty etc/ringtun"
  rdpkg -P ringtun
  [ -z "$(status)" ] || fail "after dpkg -P: $(status)"
  [ ! -s "$RINGTUN_CALLS" ] || fail "dpkg --root: the scripts called $(cat "$RINGTUN_CALLS")"
  echo "maintainer scripts: the calls expected under systemd, only the user's and the" \
    "statoverride's without it, none with DPKG_ROOT; root's private files in /etc/ringtun" \
    "given to group ringtun on the upgrade, nothing else; dpkg --root -i, -i again, -r, -P" \
    "succeeded"
else
  echo "maintainer scripts: checked with sh -n only (their behaviour needs root, unshare -m)"
fi

# lintian: no error. Everything it says is printed, overridden tags (O:) included.
lint=$(lintian --pedantic --display-info --show-overrides "$deb" 2>&1 |
  grep -v '^running with root privileges' || true)
echo "lintian (--pedantic --display-info --show-overrides):"
echo "${lint:-(nothing)}"
! grep -q '^E:' <<<"$lint" || fail "lintian reports errors"
echo "$(basename "$deb"): $(stat -c %s "$deb") bytes, installed size $(field Installed-Size) KiB;" \
  "Depends: $depends"
