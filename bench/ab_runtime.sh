#!/usr/bin/env bash
# A/B of two builds of libqmap_runtime on one .bin, alternating, for decisions on a machine
# whose speed drifts (the development VM's changes by up to 20% from minute to minute): each
# round runs build/bench/bin_latency once with each build's library (LD_LIBRARY_PATH, the
# order alternating between rounds), and the script prints every round's B / A ratio of
# median latencies, then their median and quartiles. A ratio below 1 means B is faster.
#
# usage: bench/ab_runtime.sh --a DIR --b DIR [--model-a FILE] [--rounds N] [--threads N] [--runs N] [--input FILE] MODEL.bin
#   --a DIR, --b DIR  build folders (or any folders) holding libqmap_runtime.so.0 (may be the same)
#   --model-a FILE    the .bin A runs (default MODEL.bin): e.g. the model as an older makertbin
#                     wrote it, to compare what the file stores (its memory plan) on one library
#   --rounds N        rounds (default 10)
#   --threads N       intra-op threads (default 1)
#   --runs N          timed runs per measurement (default 15, after 3 warm-up)
#   --input FILE      the first input's bytes (e.g. bench_int8_vs_ort's input.bin; default zeros)
# Example, the working tree against a commit:
#   git worktree add /tmp/old REV && cmake -S /tmp/old -B /tmp/old/build -DCMAKE_BUILD_TYPE=Release \
#     && cmake --build /tmp/old/build -j2 --target qmap_runtime_shared
#   bash bench/ab_runtime.sh --a /tmp/old/build --b build --threads 2 build/bench_int8_vs_ort/resnet50/resnet50.bin
set -euo pipefail

die() { echo "ab_runtime: $*" >&2; exit 2; }
usage() { sed -n '/^# usage:/,/^# Example/p' "$0" | sed 's/^# \{0,1\}//'; }

root="$(cd "$(dirname "$0")/.." && pwd)"
a="" b="" rounds=10 threads=1 runs=15 model="" model_a="" input=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --a|--b|--model-a|--rounds|--threads|--runs|--input)
      [ $# -ge 2 ] || die "$1: missing value"
      case "$1" in --a) a="$2" ;; --b) b="$2" ;; --rounds) rounds="$2" ;; --threads) threads="$2" ;; --runs) runs="$2" ;;
        --model-a) [ -f "$2" ] || die "--model-a '$2': no such file"; model_a="$2" ;;
        --input) [ -f "$2" ] || die "--input '$2': no such file"; input=(--input "$2") ;; esac
      shift 2 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) [ -z "$model" ] || die "one model only, got '$model' and '$1'"; model="$1"; shift ;;
  esac
done
[ -n "$a" ] && [ -n "$b" ] || die "--a and --b are required (see --help)"
[ -n "$model" ] || die "no model given (see --help)"
[ -f "$model" ] || die "model '$model': no such file"
[ -n "$model_a" ] || model_a="$model"
for d in "$a" "$b"; do [ -e "$d/libqmap_runtime.so.0" ] || die "'$d' holds no libqmap_runtime.so.0"; done
for n in "$rounds" "$threads" "$runs"; do [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "'$n' is not a positive count"; done
bin="$root/build/bench/bin_latency"
[ -x "$bin" ] || die "$bin is missing: build it (cmake --build build --target bin_latency)"

one() { LD_LIBRARY_PATH="$1" "$bin" "$2" --threads "$threads" --runs "$runs" "${input[@]}" | awk '{print $1}'; }
ratios=()
for r in $(seq 1 "$rounds"); do
  if [ $((r % 2)) -eq 1 ]; then ta=$(one "$a" "$model_a"); tb=$(one "$b" "$model"); else tb=$(one "$b" "$model"); ta=$(one "$a" "$model_a"); fi
  ratio=$(awk -v x="$tb" -v y="$ta" 'BEGIN {printf "%.4f", x / y}')
  ratios+=("$ratio")
  echo "round $r: A $ta ms, B $tb ms, B/A $ratio"
done
printf '%s\n' "${ratios[@]}" | sort -n | awk '{v[NR] = $1} END {
  printf "B/A over %d rounds: median %.3f (quartiles %.3f, %.3f)\n", NR, v[int((NR + 1) / 2)], v[int((NR + 3) / 4)], v[int((3 * NR + 3) / 4)]}'
