#!/usr/bin/env bash
# runtime_c.needed: libqmap_runtime.so links nothing but the C/C++ standard libraries (DESIGN.md
# section 5): its NEEDED entries are a subset of libc, libstdc++, libm, libgcc_s and the loader.
#   check_needed.sh <path to libqmap_runtime.so>
set -euo pipefail
lib="$1"
needed=$(readelf -d "$lib" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
echo "NEEDED of $lib:"
echo "$needed" | sed 's/^/  /'
bad=0
for n in $needed; do
  case "$n" in
    libc.so.*|libstdc++.so.*|libm.so.*|libgcc_s.so.*|ld-linux*.so.*) ;;
    *) echo "not allowed: $n (only libc, libstdc++, libm, libgcc_s and the loader)" >&2; bad=1 ;;
  esac
done
echo "$needed" | grep -q '^libc\.so' || { echo "no libc in NEEDED: is this a shared library?" >&2; bad=1; }
exit $bad
