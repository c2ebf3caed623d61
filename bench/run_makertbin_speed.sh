#!/usr/bin/env bash
# makertbin speed and memory on ../shared's MobileNetV2 (issue 4, item 9): converts with
# calibration_type default on the 100 imagenet-calib images, then on 1000 samples (the 100
# preprocessed files repeated 10 times under other names), and prints wall time, the
# per-stage times makertbin logs, and peak resident memory of each run. The memory figure
# should stay flat from 100 to 1000 samples: calibration streams (min/max, histograms).
#   bench/run_makertbin_speed.sh [--jobs N] [--method default|kl|...]
# Environment: BUILD_DIR (default <repo>/build), SHARED (default <repo>/../shared).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
. "$here/bench/mobilenetv2_yaml.sh"
build="${BUILD_DIR:-$here/build}"
shared="${SHARED:-$here/../shared}"
jobs=2
method=default
while [ $# -gt 0 ]; do
  case "$1" in
    --jobs) jobs="$2"; shift 2 ;;
    --method) method="$2"; shift 2 ;;
    *) echo "usage: $0 [--jobs N] [--method M]" >&2; exit 2 ;;
  esac
done
[ -x /usr/bin/time ] || { echo "run_makertbin_speed: /usr/bin/time missing: apt-get install time" >&2; exit 1; }
[ -f "$shared/models/onnx/mobilenetv2-12-float.onnx" ] || { echo "run_makertbin_speed: $shared not found (set SHARED)" >&2; exit 1; }

cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target qmap -j2 >/dev/null
qmap="$build/qmap"
work="$build/bench_makertbin_speed"
mkdir -p "$work"
if [ ! -d "$work/calib100" ]; then
  "$qmap" preprocess --input-dir "$shared/data/imagenet-calib" --output-dir "$work/calib100" \
    --short-side-resize 256 --center-crop 224 --color rgb --layout NCHW --dtype uint8 >/dev/null
fi
if [ ! -d "$work/calib1000" ]; then
  mkdir -p "$work/calib1000"
  for k in 0 1 2 3 4 5 6 7 8 9; do
    for f in "$work"/calib100/*.bin; do ln -f "$f" "$work/calib1000/r${k}_$(basename "$f")"; done
  done
fi

run() {  # $1 = sample folder
  local dir="$work/run_$(basename "$1")"
  mkdir -p "$dir"
  mobilenetv2_yaml "$shared" "$1" "$method" "$jobs" > "$dir/cfg.yaml"
  /usr/bin/time -f "%e %M" -o "$dir/time.txt" "$qmap" makertbin --config "$dir/cfg.yaml" --model-type onnx --no-progress \
    >"$dir/stdout.txt" 2>"$dir/stderr.txt"
  read -r secs kib < "$dir/time.txt"
  local stages
  stages="$(grep -o 'stage times: .*' "$dir/model_output/makertbin.log" | sed 's/stage times: //')"
  local selected
  selected="$(grep -o 'Select [^ ]* method' "$dir/model_output/makertbin.log" | head -1 || true)"
  printf '| %s | %s | %.1f | %d | %s | %s |\n' "$(ls "$1" | wc -l)" "$method" "$secs" "$((kib / 1024))" "$stages" "$selected"
}

echo "makertbin, MobileNetV2, $jobs threads, $(date -u +%Y-%m-%d)"
echo
echo "| samples | method | wall s | peak RSS MiB | stages | |"
echo "|---|---|---|---|---|---|"
run "$work/calib100"
run "$work/calib1000"
