#!/usr/bin/env bash
# The layout's arrows (README "Layout"): each folder includes only the folders (or files) it
# may use, and the sans-IO rooms (daemon/engine, daemon/datapath, daemon/transport, tun's
# offload code) neither touch io_uring nor read a clock nor make a syscall: bytes and time in,
# effects out.
#
#   tests/lint/layout.sh [SOURCE_DIR]
set -euo pipefail
cd "${1:-$(dirname "$0")/../..}"

# Sans-IO files in a folder that also does I/O: tun/ holds the TUN device and netlink code, and
# next to them the offload code (library tun_offload), which is pure.
sans_io_files=(tun/ip_fields.hpp tun/virtio_net_hdr.hpp tun/checksum.hpp tun/checksum.cpp
  tun/gso_split.hpp tun/gso_split.cpp tun/gro_candidate.hpp tun/gro_candidate.cpp tun/gro.hpp
  tun/gro.cpp tun/gro_unmerge.hpp tun/gro_unmerge.cpp)
# Their headers, which the datapath may include without the TUN device beside them.
tun_offload_headers=$(printf '%s\n' "${sans_io_files[@]}" | grep '\.hpp$' | tr '\n' ' ')

# folder -> the project folders (or single files) its #include "..." lines may name (besides
# itself)
declare -A may_use=(
  [util]=""
  [crypto]=""
  [conf]=""
  [ring]="util"
  [tun]="util"
  [daemon/engine]="crypto util"
  [daemon/datapath]="crypto util daemon/engine $tun_offload_headers"
  [daemon/transport]="crypto util daemon/engine daemon/datapath"
  [daemon/service]="util"
  [daemon/control]="crypto util daemon/engine"
  [daemon/backend]="crypto util ring tun daemon/engine daemon/datapath daemon/transport daemon/control"
  [bench]="crypto util daemon/engine"
  [daemon/cli]="crypto conf util ring tun daemon/engine daemon/datapath daemon/transport daemon/service daemon/backend daemon/control daemon/cli"
)
sans_io=(daemon/engine daemon/datapath daemon/transport daemon/control)
# What sans-IO code must not name: io_uring, clocks, the headers of file-descriptor I/O, and
# system calls (those without a method namesake anywhere, or called as ::name).
forbidden='#include <(liburing|unistd|fcntl|poll|sys/epoll|sys/ioctl)\.h>|\bio_uring_[a-z_]+\(|clock_gettime|gettimeofday|getrandom|std::time\(|steady_clock|system_clock|\b(sendmsg|recvmsg|sendmmsg|recvmmsg|sendto|recvfrom|ioctl|epoll_wait|epoll_ctl|accept4)\(|(^|[^A-Za-z0-9_>])::(read|write|recv|send|socket|connect|accept|bind|listen|open|close|poll)\('

fail=0
folder_of() {
  local f=$1 best="" k
  for k in "${!may_use[@]}"; do
    if [[ $f == "$k"/* ]] && [ ${#k} -gt ${#best} ]; then best=$k; fi
  done
  echo "$best"
}

checked=0
while IFS= read -r f; do
  folder=$(folder_of "$f")
  [ -n "$folder" ] || continue
  checked=$((checked + 1))
  while IFS= read -r inc; do
    ok=0
    for allowed in "$folder" ${may_use[$folder]}; do
      [[ $inc == "$allowed"/* || $inc == "$allowed" ]] && ok=1
    done
    if [ $ok -eq 0 ]; then
      echo "layout: $f includes \"$inc\" ($folder may use: ${may_use[$folder]:-nothing of ours})" >&2
      fail=1
    fi
  done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
done < <(git ls-files '*.cpp' '*.hpp' 2>/dev/null || find . -name '*.[ch]pp' | sed 's|^\./||')

for f in "${sans_io_files[@]}"; do
  [ -f "$f" ] || { echo "layout: sans-IO file $f is listed but missing" >&2; fail=1; }
done
for room in "${sans_io[@]}" "${sans_io_files[@]}"; do
  hits=$(grep -HnE "$forbidden" -r "$room" --include='*.cpp' --include='*.hpp' | grep -vE '^\S+:[0-9]+:\s*//' || true)
  if [ -n "$hits" ]; then
    echo "layout: $room is sans-IO but names I/O or a clock:" >&2
    echo "$hits" >&2
    fail=1
  fi
done
[ "$checked" -gt 0 ] || { echo "layout: no source files found" >&2; exit 1; }
[ $fail -eq 0 ] && echo "layout: $checked files, every include points the allowed way; sans-IO rooms clean"
exit $fail
