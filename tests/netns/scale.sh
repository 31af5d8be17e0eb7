#!/usr/bin/env bash
# ringtun with 10,000 peers (bench/scale.sh --check): two pairs of namespaces, one tunnel with a
# single peer and one whose side A holds 0, 1,000 and 10,000 peers (the real one last).
# Asserted for every count with peers: the handshake with the last configured peer completes
# (side A answering it, the peer found by its key; then initiating it), and the median round
# trip through that tunnel (400 echoes, each paired with one through the single-peer tunnel,
# every daemon and the pinger on one CPU) is within 10% of the single peer's median. In a
# normal build also: start-up to READY=1 under 1 s with 10,000 peers, the fastest of 3 starts
# (on this shared machine a load of 9 made a start of 0.2 s of CPU take 1.2 s) and its CPU
# time too; and at most 4 KiB resident per peer (VmRSS from 0 to 10,000 peers, after traffic
# and after two reloads of the same file, which before reloads gave their memory back left
# 4.4 KiB per peer). An ASan build measures and prints those two, but its allocator's padding
# and quarantine and its slower code make them no figure of ringtun's. In both: with every
# made-up peer keeping alive, no first initiation found no transmit buffer (no_tx_buffer: the
# timers wait for the loop's buffers instead), and more than the loop's 656 transmit slots went
# out within 3 s of READY=1.
# Needs root, /dev/net/tun, ip netns (exit 77 otherwise); RINGTUN = the ringtun binary.
set -euo pipefail
exec bash "$(dirname "$0")/../../bench/scale.sh" --check --no-handshake-bench \
  --peers "0 1000 10000" --starts 3 --pairs 400
