#!/usr/bin/env bash
# Configures and builds ringtun with warnings as errors (RINGTUN_WERROR; a plain cmake build
# leaves it off). Usage: scripts/build.sh [--sanitize | --fuzz] [TARGET...]
#   default      -> build/        (RelWithDebInfo)
#   --sanitize   -> build-asan/   (ASan + UBSan)
#   --fuzz       -> build-fuzz/   (clang, libFuzzer + ASan + UBSan; default target: fuzz,
#                                  the fuzz targets; run them with ctest -R '^fuzz\.')
#   TARGET...    -> only these targets (default: everything, tests included)
# Prints the build directory on standard output (the build's progress goes to standard error).
set -euo pipefail
cd "$(dirname "$0")/.."

dir=build
flags=(-DRINGTUN_WERROR=ON)
if [ "${1:-}" = "--sanitize" ]; then
  dir=build-asan
  flags+=(-DRINGTUN_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
  shift
elif [ "${1:-}" = "--fuzz" ]; then
  dir=build-fuzz
  flags+=(-DRINGTUN_FUZZ=ON -DRINGTUN_SANITIZE=ON -DCMAKE_CXX_COMPILER=clang++)
  shift
  [ $# -gt 0 ] || set -- fuzz
fi
targets=()
for t in "$@"; do targets+=(--target "$t"); done
# Progress on standard error, so that callers capturing the directory still show it.
echo "build.sh: building $dir${targets[*]:+ (${targets[*]})}" >&2
cmake -S . -B "$dir" "${flags[@]}" >/dev/null
cmake --build "$dir" -j "$(nproc)" "${targets[@]}" >&2
echo "$dir"
