#!/usr/bin/env bash
# Builds qmap with its tests and runs every test (unit, kernel testers, ONNX conformance,
# ONNX Runtime agreement, Python, end-to-end).
#   scripts/test.sh            build + run the suite once, in this environment
#   scripts/test.sh --matrix   build once, then run the suite under every setting the results
#                              must not depend on: OPENBLAS_CORETYPE unset, Haswell and (on
#                              CPUs with AVX-512) SkylakeX, and every kernel ISA this CPU has
#                              (QMAP_ISA=ref|avx2|avxvnni|avx512vnni). Prints one line per setting and
#                              fails if any setting fails.
#   scripts/test.sh --sanitize build with AddressSanitizer + UndefinedBehaviorSanitizer into
#                              build-asan/ and run the whole suite there (a leak, an invalid
#                              access or undefined behaviour fails the test that caused it)
#   scripts/test.sh --sanitize --subset
#                              the same for the readers, the runtime and the end-to-end tests
#                              only (what .ci/run runs when its time budget allows: builds qmap,
#                              the unit and e2e tests and the fuzz replays, not the ORT peers,
#                              the Python module or the benchmarks)
#   scripts/test.sh --tsan     build the concurrency tests (16 threads on one model, the thread
#                              pools, 8 Python threads) with ThreadSanitizer into build-tsan/ and
#                              run them (ctest label `concurrency`); any race report fails
# Extra arguments go to ctest (e.g. -R Kernel). BUILD_DIR overrides the build folder;
# BUILD_TIMEOUT=<seconds> stops the build after that long with exit code 124 (.ci/run's budget).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
matrix=0
mode=release
subset=0
args=()
for a in "$@"; do
  case "$a" in
    --matrix) matrix=1 ;;
    --sanitize) mode=asan ;;
    --tsan) mode=tsan ;;
    --subset) subset=1 ;;
    *) args+=("$a") ;;
  esac
done
# Sanitizer builds compile at -O1 (what the sanitizers' authors recommend: readable stacks,
# and about a third less compile time than -O3 on the 2-core machine).
sanitizer_opt=("-DCMAKE_CXX_FLAGS_RELEASE=-O1 -DNDEBUG" "-DCMAKE_C_FLAGS_RELEASE=-O1 -DNDEBUG")
case "$mode" in
  release)
    "$here/scripts/build.sh"
    cd "${BUILD_DIR:-$here/build}" ;;
  asan)
    export BUILD_DIR="${BUILD_DIR:-$here/build-asan}"
    targets=()
    if [ "$subset" = 1 ]; then
      targets=(--target qmap --target qmap_unit_tests --target qmap_e2e_tests --target qmap_fuzz_seeds)
      for h in onnx caffe_prototxt caffemodel makertbin_yaml bin image calib_raw calib_table; do
        targets+=(--target "qmap_fuzz_$h")
      done
      # Readers (ONNX, Caffe, YAML, .bin, images, calibration data and tables, march specs),
      # the runtime (API, executor, memory plan, kernels against the reference: the convolution
      # testers and the int16 Add's) and every end-to-end CLI test.
      args=(-R '^(OnnxImport|OnnxExport|Caffe|MakertbinConfig|Bin|Image|CalibDataset|CalibTable|PreprocessTest|TargetSpec|Runtime|WeightPack|WeightArena|QConv|QAddWide|fuzz[.]|e2e[.]|[A-Za-z]+E2[Ee][.])' ${args[@]+"${args[@]}"})
    fi
    # Not --foreground: that times out build.sh alone and leaves its make and compilers running
    # after the script has given up (a CI run's build went on for minutes after "skipped").
    ${BUILD_TIMEOUT:+timeout -k 30 "$BUILD_TIMEOUT"} "$here/scripts/build.sh" -DQMAP_SANITIZE=ON "${sanitizer_opt[@]}" ${targets[@]+"${targets[@]}"}
    cd "$BUILD_DIR"
    # Leaks are reported (LeakSanitizer) and fail the process; every report prints a stack.
    export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1}"
    export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
    # Tests labelled release_artifact inspect the shipped library and packages (NEEDED list,
    # .deb dependencies, a plain C program linking the library), which a sanitized build
    # differs from by design.
    args=(-LE release_artifact ${args[@]+"${args[@]}"}) ;;
  tsan)
    export BUILD_DIR="${BUILD_DIR:-$here/build-tsan}"
    "$here/scripts/build.sh" -DQMAP_TSAN=ON "${sanitizer_opt[@]}" --target qmap_concurrency_tests --target qmap --target _qmap
    cd "$BUILD_DIR"
    export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}"
    args=(-L concurrency "${args[@]}") ;;
esac
run_suite() { ctest --output-on-failure -j"${JOBS:-$(nproc)}" ${args[@]+"${args[@]}"}; }
if [ "$matrix" = 0 ] || [ "$mode" != release ]; then
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
