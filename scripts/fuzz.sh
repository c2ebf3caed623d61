#!/usr/bin/env bash
# Builds the libFuzzer harnesses (fuzz/, clang + ASan + UBSan, into build-fuzz/) and runs each
# for SECONDS (default 60), one after the other, from the seed corpus qmap_fuzz_seeds writes
# plus the corpus earlier runs grew (build-fuzz/fuzz/corpus/<harness>/).
#   scripts/fuzz.sh [SECONDS]
# Environment: FUZZ_RUNS=N stops a harness after N executions (even before SECONDS);
# FUZZ_ONLY="onnx bin" runs only those harnesses; BUILD_DIR overrides build-fuzz/;
# FUZZ_SKIP_BUILD=1 uses the harnesses and seeds already there (two runs side by side, each
# with its own FUZZ_ONLY).
# Prints one line per harness (executions, exec/s, corpus entries, result) and fails when any
# harness found a crash, a leak, a hang (-timeout), an allocation over 2 GB (-malloc_limit_mb)
# or a sanitizer report; the input is saved as build-fuzz/fuzz/crashes/<harness>-crash-<sha1>.
# A fixed crash's input goes into fuzz/regressions/<harness>/ (ctest replays it in every build).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
seconds="${1:-60}"
build="${BUILD_DIR:-$here/build-fuzz}"
harnesses=(${FUZZ_ONLY:-onnx caffe_prototxt caffemodel makertbin_yaml bin image calib_raw calib_table})
command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ not found: bash scripts/install-deps.sh --fuzz installs clang and libclang-rt-14-dev" >&2; exit 1; }

work="$build/fuzz"
if [ "${FUZZ_SKIP_BUILD:-0}" != 1 ]; then
  targets=(--target qmap_fuzz_seeds)
  for h in "${harnesses[@]}"; do targets+=(--target "qmap_fuzz_$h"); done
  CC=clang CXX=clang++ BUILD_DIR="$build" "$here/scripts/build.sh" -DQMAP_FUZZ=ON -DQMAP_BUILD_PYTHON=OFF "${targets[@]}"
  rm -rf "$work/seeds"
  "$build/fuzz/qmap_fuzz_seeds" "$work/seeds"
fi
mkdir -p "$work/crashes" "$work/logs"
runs=()
if [ -n "${FUZZ_RUNS:-}" ]; then runs=(-runs="$FUZZ_RUNS"); fi
failed=0
summary=()
for h in "${harnesses[@]}"; do
  mkdir -p "$work/corpus/$h"
  dict=()
  if [ -f "$here/fuzz/dict/$h.dict" ]; then dict=(-dict="$here/fuzz/dict/$h.dict"); fi
  seeds=("$work/seeds/$h")
  if [ -d "$here/fuzz/regressions/$h" ]; then seeds+=("$here/fuzz/regressions/$h"); fi
  log="$work/logs/$h.log"
  echo "== $h: ${seconds} s${FUZZ_RUNS:+ or $FUZZ_RUNS runs}"
  start=$(date +%s)
  # -timeout: one input over 10 s is a hang; -malloc_limit_mb/-rss_limit_mb: the 2 GB cap of
  # docs/reliability.md; -max_len: inputs up to 64 KiB (the seeds are smaller), 8 KiB for the
  # makertbin YAML (real configs are 1-3 KiB: longer mutated texts only make each parse slower).
  max_len=65536
  if [ "$h" = makertbin_yaml ]; then max_len=8192; fi
  set +e
  "$build/fuzz/qmap_fuzz_$h" "$work/corpus/$h" "${seeds[@]}" "${dict[@]}" "${runs[@]}" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 -max_len="$max_len" \
    -print_final_stats=1 -artifact_prefix="$work/crashes/$h-" >"$log" 2>&1
  rc=$?
  set -e
  elapsed=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  corpus=$(find "$work/corpus/$h" -type f | wc -l)
  if [ "$rc" = 0 ]; then result="ok"; else result="FAILED (exit $rc, $log)"; failed=1; tail -n 30 "$log"; fi
  summary+=("$(printf '%-15s %12s execs %8s exec/s %6s corpus %5s s  %s' "$h" "${execs:-?}" "${rate:-?}" "$corpus" "$elapsed" "$result")")
done
echo
echo "== fuzz summary (clang $(clang++ -dumpversion), $(date -u +%Y-%m-%dT%H:%MZ))"
printf '%s\n' "${summary[@]}"
exit "$failed"
