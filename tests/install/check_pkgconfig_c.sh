#!/usr/bin/env bash
# install.pkgconfig_c: tests/runtime_c/min_runtime.c (the C API) built with a plain cc line and
# `pkg-config --cflags --libs qmap_runtime` against a moved copy of the installed tree, shared
# and static (--static, libqmap_runtime.a), runs a .bin made by the moved qmap and gives, byte
# for byte, qmap infer's output.
#   check_pkgconfig_c.sh <C compiler> <stage> <work> <source dir> <version> <libdir>
set -euo pipefail
# grep that reads all its input (grep -q exits early: with pipefail the writer's SIGPIPE fails)
contains() { grep "$@" > /dev/null; }
cc="$1" stage="$2" work="$3" src="$4" version="$5" libdir="$6"
rm -rf "$work"
mkdir -p "$work"
cp -a "$stage" "$work/prefix"
prefix="$work/prefix"
cd "$work"
export PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig"
unset PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR

got=$(pkg-config --modversion qmap_runtime)
[ "$got" = "$version" ] || { echo "pkg-config --modversion qmap_runtime: '$got', expected $version" >&2; exit 1; }
# The paths pkg-config gives are inside the moved tree.
pc_libdir=$(cd "$(pkg-config --variable=libdir qmap_runtime)" && pwd)
[ "$pc_libdir" = "$prefix/$libdir" ] || { echo "pkg-config libdir $pc_libdir, expected $prefix/$libdir" >&2; exit 1; }

"$src/tests/make_tiny_bin.sh" "$prefix/bin/qmap" "$src" "$work/model"

# Shared: the line a user types.
"$cc" -std=c99 -Wall -Wextra -Werror "$src/tests/runtime_c/min_runtime.c" -o min_shared \
  $(pkg-config --cflags --libs qmap_runtime) -Wl,-rpath,"$pc_libdir"
readelf -d min_shared | contains 'NEEDED.*\[libqmap_runtime\.so\.'"${version%%.*}"'\]' ||
  { echo "min_shared does not need libqmap_runtime.so.${version%%.*}" >&2; exit 1; }
./min_shared model/model_output/tiny.bin model/x.bin out_shared.bin | tee run_shared.log
grep -qx "runtime: qmap $version" run_shared.log
cmp model/infer_out/output.bin out_shared.bin

# Static: the archive in place of -lqmap_runtime (the linker prefers the .so beside it) and the
# C++ runtime libraries from Libs.private.
static_libs=$(pkg-config --static --libs qmap_runtime | sed 's/-lqmap_runtime\b/-l:libqmap_runtime.a/')
"$cc" -std=c99 -Wall -Wextra -Werror "$src/tests/runtime_c/min_runtime.c" -o min_static \
  $(pkg-config --cflags qmap_runtime) $static_libs
if readelf -d min_static | contains 'NEEDED.*libqmap_runtime'; then
  echo "min_static needs libqmap_runtime.so" >&2; exit 1
fi
./min_static model/model_output/tiny.bin model/x.bin out_static.bin > run_static.log
cmp model/infer_out/output.bin out_static.bin
echo "C program via pkg-config (shared and static) == qmap infer, byte for byte"
