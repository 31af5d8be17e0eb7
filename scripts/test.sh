#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs every test through CTest,
# first in the normal build, then in the ASan/UBSan build; last, each fuzz target for a
# bounded time (clang build, build-fuzz/).
# Tests that need root, TUN or network namespaces exit 77 (skipped) where those are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
for variant in "" "--sanitize"; do
  dir=$(scripts/build.sh $variant | tail -n 1)
  echo "== ctest in $dir"
  (cd "$dir" && ctest --output-on-failure --timeout 900)
done
dir=$(scripts/build.sh --fuzz | tail -n 1)
echo "== fuzz targets in $dir"
(cd "$dir" && ctest -R '^fuzz\.' --output-on-failure)
