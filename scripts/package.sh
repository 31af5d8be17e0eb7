#!/usr/bin/env bash
# Builds the Debian package: a Release build, prefix /usr, of only what the package holds (the
# ringtun binary, the compressed man pages, the Debian files) in build-deb/, then cpack -G DEB.
# The tests are not built, and build/ and build-asan/ are left alone.
# Usage: scripts/package.sh        Prints the .deb's absolute path on the last line.
# Needs cmake, dpkg-dev (dpkg-buildflags, dpkg-shlibdeps) and what the build needs
# (scripts/install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

dir=build-deb
mkdir -p "$dir"
# One packaging at a time in build-deb/ (the CTest test package.deb may run from build/ and
# from build-asan/).
exec 9>"$dir/.package.lock"
flock 9

# Debian's build flags with every hardening feature (format checks, _FORTIFY_SOURCE, stack
# protector, RELRO with BIND_NOW) over Release's -O3, without -g: the packaged binary is
# stripped.
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
# The changelog's date: the last commit's (string(TIMESTAMP) honours SOURCE_DATE_EPOCH).
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
cxxflags=()
for f in $(dpkg-buildflags --get CPPFLAGS) $(dpkg-buildflags --get CXXFLAGS); do
  case $f in -g | -O?) ;; *) cxxflags+=("$f") ;; esac
done
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
  -DRINGTUN_TESTS=OFF -DRINGTUN_WERROR=OFF \
  "-DCMAKE_CXX_FLAGS=${cxxflags[*]}" \
  "-DCMAKE_EXE_LINKER_FLAGS=$(dpkg-buildflags --get LDFLAGS)" >/dev/null
cmake --build "$dir" -j "$(nproc)" --target ringtun ringtun_docs
rm -f "$dir"/ringtun_*.deb
(cd "$dir" && cpack -G DEB)
debs=("$PWD/$dir"/ringtun_*.deb)
[ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ] || { echo "package: no .deb in $dir" >&2; exit 1; }
echo "${debs[0]}"
