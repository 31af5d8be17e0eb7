#!/usr/bin/env bash
# `ringtun tune` as an operator runs it: a 40 s sweep completes within its budget (and a
# bound), writes a CSV with at least three measured rows of positive throughput and an SVG
# that parses as XML, leaves no namespace, daemon or temporary directory behind, and prints a
# [ring] section that `ringtun check` accepts in a configuration. A second run interrupted
# with SIGINT after a few seconds ends within 5 s, also leaving nothing behind.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
netns_ringtun_test

fail() { netns_fail "$*"; }

# What a run of ours may leave: namespaces, ringtun processes, temporary directories.
leftovers() {
  ip netns list 2>/dev/null | awk '{print $1}' | grep '^ringtun-tune-' || true
  pgrep -af 'ringtun run .*/ringtun-tune-' || true
}
tmp_dirs() { find "${TMPDIR:-/tmp}" -maxdepth 1 -name 'ringtun-tune-*' 2>/dev/null | sort; }

[ -z "$(leftovers)" ] || fail "left by someone else before the test: $(leftovers)"
dirs_before=$(tmp_dirs)
cd "$NETNS_TMP"

# The run: 40 s of budget; the bound leaves room for one point past it and the teardown.
start=$(now_ms)
rc=0
netns_run_bounded 75 "$RINGTUN" tune --budget 40 --csv sweep.csv --svg sweep.svg \
  >tune.out 2>tune.log || rc=$?
took=$(($(now_ms) - start))
cat tune.out
[ $rc -eq 0 ] || fail "ringtun tune --budget 40: exit $rc after ${took} ms"
netns_log "ringtun tune --budget 40 took ${took} ms"
[ -z "$(leftovers)" ] || fail "left behind: $(leftovers)"
[ "$(tmp_dirs)" = "$dirs_before" ] || fail "temporary directories left: $(tmp_dirs)"

python3 - sweep.csv sweep.svg <<'PY' || fail "the CSV or the SVG"
import csv, sys, xml.dom.minidom
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
need = ["point", "status", "throughput_gbit_s", "cpu_s_per_gb", "capacity_kpps",
        "rtt_median_us", "note"]
assert rows and list(rows[0].keys()) == need, f"CSV header: {list(rows[0].keys()) if rows else None}"
measured = [r for r in rows if r["status"] == "measured"]
assert len(measured) >= 3, f"{len(measured)} measured rows"
for r in measured:
    assert float(r["throughput_gbit_s"]) > 0, r
    assert float(r["cpu_s_per_gb"]) > 0, r
    assert float(r["rtt_median_us"]) > 0, r
assert rows[0]["point"] == "defaults" and rows[0]["status"] == "measured", rows[0]
doc = xml.dom.minidom.parse(sys.argv[2])
root = doc.documentElement
assert root.tagName == "svg", root.tagName
assert len(root.getElementsByTagName("rect")) >= len(measured), "a bar per measured point"
print(f"CSV: {len(rows)} points, {len(measured)} measured; SVG: well-formed")
PY

# The recommended section, pasted into a minimal valid configuration, passes check.
sed -n '/^\[ring\]$/,$p' tune.out >ring.toml
[ -s ring.toml ] || fail "no [ring] section in the output"
{
  printf '[interface]\nprivate_key = "%s"\nname = "rt7"\n\n' "$("$RINGTUN" genkey)"
  cat ring.toml
} >pasted.toml
chmod 600 pasted.toml
out=$("$RINGTUN" check pasted.toml 2>&1) || fail "check of the recommended section: $out"
netns_log "recommended: $(tr '\n' ' ' <ring.toml)"

# Ctrl-C: SIGINT after a few seconds (the lab made, a point under way) ends it promptly.
"$RINGTUN" tune --budget 60 --csv int.csv --svg int.svg >int.out 2>int.log &
pid=$!
netns_track "$pid"
netns_poll "ip netns list | grep -q '^ringtun-tune-$pid-b'" 10 || fail "no lab namespaces"
sleep 3
start=$(now_ms)
kill -INT "$pid"
netns_poll "! netns_alive $pid" 5 || fail "ringtun tune still ran 5 s after SIGINT"
took=$(($(now_ms) - start))
rc=0
wait "$pid" || rc=$?
[ $rc -eq 130 ] || fail "ringtun tune after SIGINT: exit $rc (want 130); $(tail -3 int.log)"
[ "$took" -lt 5000 ] || fail "ringtun tune took ${took} ms to end after SIGINT"
[ -z "$(leftovers)" ] || fail "left behind after SIGINT: $(leftovers)"
[ "$(tmp_dirs)" = "$dirs_before" ] || fail "temporary directories left after SIGINT: $(tmp_dirs)"
grep -q 'skipped: interrupted' int.out || fail "the interrupted run's table: $(cat int.out)"

echo "tune: sweep complete with CSV, SVG and a section check accepts; SIGINT ended a run in ${took} ms; nothing left behind"
