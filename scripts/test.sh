#!/usr/bin/env bash
# Builds qmap with its tests and runs every test (unit, kernel testers, ONNX conformance,
# ONNX Runtime agreement, Python, end-to-end).
#   scripts/test.sh            build + run the suite once, in this environment
#   scripts/test.sh --matrix   build once, then run the suite under every setting the results
#                              must not depend on: OPENBLAS_CORETYPE unset, Haswell and (on
#                              CPUs with AVX-512) SkylakeX, and every kernel ISA this CPU has
#                              (QMAP_ISA=ref|avx2|avxvnni|avx512vnni). Prints one line per setting and
#                              fails if any setting fails.
# Extra arguments go to ctest (e.g. -R Kernel).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
matrix=0
args=()
for a in "$@"; do
  case "$a" in
    --matrix) matrix=1 ;;
    *) args+=("$a") ;;
  esac
done
"$here/scripts/build.sh"
cd "${BUILD_DIR:-$here/build}"
run_suite() { ctest --output-on-failure -j"${JOBS:-$(nproc)}" "${args[@]}"; }
if [ "$matrix" = 0 ]; then
  run_suite
  exit 0
fi

coretypes=("" Haswell)
grep -qw avx512f /proc/cpuinfo && coretypes+=(SkylakeX)
# The ISAs this CPU has, as the runtime sees them (qmap info --isa lists them).
read -r -a isas <<<"$(./qmap info --isas)"
failed=()
summary=()
for ct in "${coretypes[@]}"; do
  for isa in "${isas[@]}"; do
    name="OPENBLAS_CORETYPE=${ct:-unset} QMAP_ISA=$isa"
    echo "== $name"
    if (if [ -n "$ct" ]; then export OPENBLAS_CORETYPE="$ct"; else unset OPENBLAS_CORETYPE; fi
        export QMAP_ISA="$isa"; run_suite) >"matrix-${ct:-unset}-$isa.log" 2>&1; then
      summary+=("passed  $name")
    else
      summary+=("FAILED  $name (build/matrix-${ct:-unset}-$isa.log)")
      failed+=("$name")
    fi
    tail -n 3 "matrix-${ct:-unset}-$isa.log"
  done
done
echo
echo "== test matrix"
printf '%s\n' "${summary[@]}"
[ "${#failed[@]}" = 0 ]
