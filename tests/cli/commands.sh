#!/usr/bin/env bash
# The command line as an operator meets it: `--help` on every command (and nothing opened or
# created by it), options after the arguments, unknown options refused with exit 2, genpsk in
# wg's format, and genkey/genpsk warning exactly as `wg genkey` does when the key lands in a
# file others can read.
set -euo pipefail
: "${RINGTUN:?path to the ringtun binary}"
if ! command -v wg >/dev/null; then
  echo "wg (wireguard-tools) is not installed" >&2
  exit 77
fi

fail() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

# --help anywhere on every command: its own usage on stdout, exit 0, no file named --help.
for cmd in run check reload probe genkey genpsk pubkey version help; do
  out=$("$RINGTUN" "$cmd" --help) || fail "ringtun $cmd --help: exit $?"
  grep -q "^Usage: ringtun $cmd" <<<"$out" || fail "ringtun $cmd --help printed: $out"
done
out=$("$RINGTUN" run some.toml --help) || fail "ringtun run FILE --help: exit $?"
grep -q "SIGHUP reloads" <<<"$out" || fail "ringtun run FILE --help: $out"
[ -z "$(ls -A)" ] || fail "--help left files: $(ls -A)"

# Options after the arguments, `--` before a file named like an option.
cat >rt0.toml <<'TOML'
[interface]
private_key = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="
TOML
chmod 600 rt0.toml
set +e
out=$("$RINGTUN" check rt0.toml --bogus 2>&1)
rc=$?
set -e
[ $rc -eq 2 ] || fail "check FILE --bogus: exit $rc"
grep -q "unknown option '--bogus'" <<<"$out" || fail "check FILE --bogus: $out"
"$RINGTUN" check rt0.toml >/dev/null || fail "check of a valid file"
cp rt0.toml ./--odd.toml
"$RINGTUN" check -- --odd.toml >/dev/null || fail "check -- --odd.toml"
set +e
"$RINGTUN" check a.toml b.toml 2>/dev/null
rc=$?
set -e
[ $rc -eq 2 ] || fail "check with two files: exit $rc"

# run --name=IFNAME (what the unit passes): checked before anything is opened.
set +e
out=$("$RINGTUN" run rt0.toml --name=bad/name 2>&1)
rc=$?
set -e
[ $rc -eq 1 ] || fail "run --name=bad/name: exit $rc"
grep -q -- "--name: .*not a valid interface name" <<<"$out" || fail "run --name=bad/name: $out"
# The same option with its value as the next word; without one it is a usage error.
set +e
out=$("$RINGTUN" run rt0.toml --name bad/name 2>&1)
rc=$?
set -e
[ $rc -eq 1 ] || fail "run --name bad/name: exit $rc"
grep -q -- "--name: .*not a valid interface name" <<<"$out" || fail "run --name bad/name: $out"
set +e
out=$("$RINGTUN" run rt0.toml --name 2>&1)
rc=$?
set -e
[ $rc -eq 2 ] || fail "run FILE --name (no value): exit $rc"
grep -q -- "option '--name' needs a value" <<<"$out" || fail "run FILE --name: $out"

# genpsk: 32 bytes in base64, as wg genpsk writes.
psk=$("$RINGTUN" genpsk)
[[ $psk =~ ^[A-Za-z0-9+/]{43}=$ ]] || fail "genpsk wrote '$psk'"
[ "$psk" != "$("$RINGTUN" genpsk)" ] || fail "genpsk wrote the same key twice"

# The warning: the same words as wg's, for the same cases (a regular file others can read).
for tool in "wg" "$RINGTUN"; do
  for kind in genkey genpsk; do
    w_open=$(umask 022 && "$tool" "$kind" 2>&1 >"$kind-open.key")
    w_closed=$(umask 077 && "$tool" "$kind" 2>&1 >"$kind-closed.key")
    w_pipe=$("$tool" "$kind" 2>&1 >/dev/null | cat)
    printf '%s\n' "$w_open" >"warn-$kind-$(basename "$tool")"
    [ -n "$w_open" ] || fail "$tool $kind into a 0644 file: no warning"
    [ -z "$w_closed" ] || fail "$tool $kind into a 0600 file warned: $w_closed"
    [ -z "$w_pipe" ] || fail "$tool $kind into a pipe warned: $w_pipe"
  done
done
cmp -s warn-genkey-wg "warn-genkey-$(basename "$RINGTUN")" ||
  fail "genkey's warning differs from wg's: $(cat "warn-genkey-$(basename "$RINGTUN")")"
cmp -s warn-genpsk-wg "warn-genpsk-$(basename "$RINGTUN")" || fail "genpsk's warning differs from wg's"
echo "commands: --help on 9 commands, options after arguments, genpsk, genkey/genpsk warnings as wg's"
