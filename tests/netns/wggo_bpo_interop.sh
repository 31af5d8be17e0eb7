#!/usr/bin/env bash
# wggo_interop.sh against the modern wireguard-go: 0.0.20231211 from Debian bookworm-backports,
# with TUN TSO/USO and UDP GSO/GRO on its side, fetched (and verified) into the benchmark's
# cache by bench/fetch-wireguard-go.sh without touching the machine's apt configuration.
# Exit 77 where that cannot run (no root, no network namespaces, no apt tools or keyring).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
rc=0
bin=$("$here/../../bench/fetch-wireguard-go.sh") || rc=$?
[ $rc -ne 77 ] || exit 77
[ $rc -eq 0 ] || { echo "wggo_bpo_interop: fetching wireguard-go 0.0.20231211 failed" >&2; exit 1; }
"$bin" --version
WIREGUARD_GO=$bin exec bash "$here/wggo_interop.sh"
