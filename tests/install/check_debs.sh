#!/usr/bin/env bash
# install.debs: `cpack -G DEB` makes the three Debian packages (cmake/install.cmake); checks
# their file lists (dpkg-deb -c) and control fields (dpkg-deb -f: names, versions, Depends),
# unpacks them with dpkg -x into a throwaway root and runs that root's qmap --version, and
# builds and runs a C program against the unpacked runtime packages with pkg-config. Runs
# lintian and shows its report when lintian is installed (not a failure: the packages carry no
# copyright file or changelog yet).
#   check_debs.sh <build dir> <work> <version> <major>
set -euo pipefail
# grep that reads all its input (grep -q exits early: with pipefail the writer's SIGPIPE fails)
contains() { grep "$@" > /dev/null; }
build="$1" work="$2" version="$3" major="$4"
rm -rf "$work"
mkdir -p "$work"
cd "$work"
cpack --config "$build/CPackConfig.cmake" -G DEB -B "$work" > cpack.log 2>&1 || { cat cpack.log >&2; exit 1; }
arch=$(dpkg --print-architecture)
lib="libqmap-runtime${major}_${version}_${arch}.deb"
dev="libqmap-runtime-dev_${version}_${arch}.deb"
tools="qmap_${version}_${arch}.deb"
for d in "$lib" "$dev" "$tools"; do [ -f "$d" ] || { echo "cpack made no $d; made: $(ls *.deb 2>/dev/null)" >&2; exit 1; }; done
[ "$(ls *.deb | wc -l)" = 3 ] || { echo "cpack made $(ls *.deb | wc -l) packages, expected 3: $(ls *.deb)" >&2; exit 1; }

bad=0
fail() { echo "install.debs: $*" >&2; bad=1; }
# has <deb> <path regex>: the package holds a matching path; lacks: it holds none.
has() { dpkg-deb -c "$1" | awk '{print $6}' | contains -E "^\./$2\$" || fail "$1 has no $2"; }
lacks() { if dpkg-deb -c "$1" | awk '{print $6}' | contains -E "^\./$2"; then fail "$1 should not hold $2"; fi; }

has "$lib" "usr/lib/(.*/)?libqmap_runtime\.so\.$major"
has "$lib" "usr/lib/(.*/)?libqmap_runtime\.so\.$version"
lacks "$lib" "usr/lib/(.*/)?libqmap_runtime\.(so|a)\$"
lacks "$lib" "usr/include"
lacks "$lib" "usr/bin"
has "$dev" "usr/lib/(.*/)?libqmap_runtime\.so"
has "$dev" "usr/lib/(.*/)?libqmap_runtime\.a"
has "$dev" "usr/include/qmap/runtime\.h"
has "$dev" "usr/include/qmap/runtime_c\.h"
has "$dev" "usr/lib/(.*/)?cmake/qmap/qmapConfig\.cmake"
has "$dev" "usr/lib/(.*/)?cmake/qmap/qmapConfigVersion\.cmake"
has "$dev" "usr/lib/(.*/)?pkgconfig/qmap_runtime\.pc"
lacks "$dev" "usr/lib/(.*/)?libqmap_runtime\.so\.$major"
lacks "$dev" "usr/bin"
has "$tools" "usr/bin/qmap"
has "$tools" "usr/share/qmap/targets/generic\.yaml"
lacks "$tools" "usr/lib"
lacks "$tools" "usr/include"

field() { dpkg-deb -f "$1" "$2"; }
[ "$(field "$lib" Package)" = "libqmap-runtime$major" ] || fail "$lib: Package is '$(field "$lib" Package)'"
[ "$(field "$dev" Package)" = "libqmap-runtime-dev" ] || fail "$dev: Package is '$(field "$dev" Package)'"
[ "$(field "$tools" Package)" = "qmap" ] || fail "$tools: Package is '$(field "$tools" Package)'"
for d in "$lib" "$dev" "$tools"; do
  [ "$(field "$d" Version)" = "$version" ] || fail "$d: Version is '$(field "$d" Version)', expected $version"
done
# The runtime needs only the C/C++ runtime libraries (DESIGN.md section 5).
lib_deps=$(field "$lib" Depends)
echo "$lib Depends: $lib_deps"
echo "$lib_deps" | contains 'libc6' || fail "$lib: Depends '$lib_deps' has no libc6"
echo "$lib_deps" | contains 'libstdc++6' || fail "$lib: Depends '$lib_deps' has no libstdc++6"
for p in $(echo "$lib_deps" | tr ',' '\n' | sed 's/(.*//; s/|.*//; s/ //g'); do
  case "$p" in libc6|libstdc++6|libgcc-s1) ;; *) fail "$lib depends on $p (only libc6, libstdc++6, libgcc-s1 allowed)" ;; esac
done
dev_deps=$(field "$dev" Depends)
echo "$dev Depends: $dev_deps"
echo "$dev_deps" | contains -F "libqmap-runtime$major (= $version)" || fail "$dev: Depends '$dev_deps' lacks libqmap-runtime$major (= $version)"
tools_deps=$(field "$tools" Depends)
echo "$tools Depends: $tools_deps"
for p in libc6 libprotobuf libyaml-cpp; do
  echo "$tools_deps" | contains "$p" || fail "$tools: Depends '$tools_deps' has no $p"
done
shlibs=$(dpkg-deb -I "$lib" shlibs 2>&1) || true
[ "$shlibs" = "libqmap_runtime $major libqmap-runtime$major (= $version)" ] ||
  fail "$lib: shlibs control file is '$shlibs', expected 'libqmap_runtime $major libqmap-runtime$major (= $version)'"
# The synopsis (first Description line) is the package's own.
[ "$(field "$lib" Description | head -n 1)" = "qmap int8 CNN runtime library" ] ||
  fail "$lib: synopsis '$(field "$lib" Description | head -n 1)'"

# Unpacked into a throwaway root: the tools run from there, and a C program builds against the
# runtime packages with pkg-config.
root="$work/root"
for d in "$lib" "$dev" "$tools"; do dpkg -x "$d" "$root"; done
"$root/usr/bin/qmap" --version | tee version.txt
head -n 1 version.txt | contains -x "qmap $version" || fail "the unpacked qmap --version does not start with 'qmap $version'"
pcdir=$(dirname "$(find "$root/usr/lib" -name qmap_runtime.pc)")
libdir=$(PKG_CONFIG_PATH="$pcdir" pkg-config --variable=libdir qmap_runtime)
cat > v.c <<'C'
#include <stdio.h>
#include <qmap/runtime_c.h>
int main(void) { printf("%s\n", qmap_version()); return 0; }
C
cc -std=c99 -Wall -Werror v.c -o v $(PKG_CONFIG_PATH="$pcdir" pkg-config --cflags --libs qmap_runtime) -Wl,-rpath,"$libdir"
[ "$(./v)" = "$version" ] || fail "a C program against the unpacked packages prints '$(./v)', expected $version"
readelf -d v | contains "NEEDED.*\[libqmap_runtime\.so\.$major\]" || fail "the C program does not need libqmap_runtime.so.$major"

if command -v lintian >/dev/null 2>&1; then
  echo "== lintian (informational)"
  lintian --no-tag-display-limit "$lib" "$dev" "$tools" || true
else
  echo "lintian is not installed; skipped"
fi
[ "$bad" = 0 ] && echo "debs OK: $lib $dev $tools"
exit $bad
