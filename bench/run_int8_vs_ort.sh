#!/usr/bin/env bash
# int8 runtime vs ONNX Runtime, in one run (bench/int8_vs_ort.cpp does the measuring):
#   1. exports the six torchvision models with seeded weights (tools/models/export_torchvision.py,
#      into <build>/models; skips existing files), plus ../shared's MobileNetV2 when present;
#   2. converts each with `qmap makertbin` (calibration_type max on a handful of samples) into
#      <build>/bench_int8_vs_ort/<model>/, skipped when the outputs are newer than the model, the
#      YAML and the calibration data (--force converts anyway);
#   3. runs int8_vs_ort: the .bin (libqmap_runtime) vs ORT on the same <model>_quantized_model.onnx
#      vs ORT on the float model, at each thread count, the same input tensor for all three;
#      agreement; the int8 peak probe; ResNet-50's convolutions one by one, with oneDNN's int8
#      convolution on the same layers as a peer when the bench was built with libdnnl-dev.
# The report is Markdown on stdout (also saved to <build>/bench_int8_vs_ort/report.md).
#
# Input, apples to apples: every model is converted with a float32 featuremap input (NCHW,
# already normalized, input_type_rt featuremap), so the .bin, the _quantized_model.onnx and the
# float model all take the very same float tensor; the .bin quantizes it in its first step, as
# the QDQ model's first QuantizeLinear does in ORT. Calibration and the timed input: ImageNet
# images from ../shared/data/imagenet-calib (short side 256, center crop 224, ImageNet mean/std)
# when present, else seeded N(0, 1) noise. The timed input is a sample not in the calibration set.
#
# usage: bench/run_int8_vs_ort.sh [--runs N] [--rounds N] [--warmup N] [--threads "1 2"] [--models "..."]
#          [--layers NAME|none] [--layer-threads N] [--max-time S] [--calib N] [--isas LIST] [--force] [--no-onednn] [--no-pin]
#          [--no-build] [-h|--help]
#   --runs N         timed runs per measurement (default 20)
#   --rounds N       the .bin, ORT int8 and ORT float timed in turn N times, runs pooled (default 3)
#   --warmup N       warm-up runs before them (default 3)
#   --threads LIST   thread counts, space or comma separated (default "1 2")
#   --models LIST    models (default: mobilenet_v2 resnet18 resnet50 squeezenet1_1
#                    shufflenet_v2_x1_0 mobilenet_v3_small, and mobilenetv2-12 when ../shared has it)
#   --layers NAME    the model whose convolutions get the per-layer table (default resnet50 when
#                    in --models; none: no table)
#   --layer-threads N  the per-layer table also times each convolution on N threads: hot, with its
#                    input just written by the N workers, and with the caches flushed
#   --max-time S     at most S seconds of .bin runs per measurement (default 20; bounds a slow
#                    runtime, the table shows the run count)
#   --calib N        calibration samples (default 8)
#   --isas LIST      also time each .bin with these kernel levels in the same run, e.g. "avx2 avxvnni"
#                    (a table of their own; the default level's columns stay as they are)
#   --force          convert again even when the outputs are up to date (e.g. after a qmap change)
#   --no-onednn      no oneDNN column in the per-layer table
#   --no-pin         do not hold the 1-thread measurements (the .bin and ORT) on one CPU
#   --no-build       do not build qmap and int8_vs_ort (they must exist)
# Environment: BUILD_DIR (default <repo>/build), SHARED (default <repo>/../shared), PYTHON
# (default /usr/bin/python3, Debian's interpreter with python3-torch/torchvision/onnx/numpy),
# JOBS (default 2), BUILD_LOCK (a file: builds run under `flock $BUILD_LOCK`), QMAP_ISA
# (ref|avx2|avxvnni|avx512vnni: the runtime's kernels; default the best this CPU has).
# Needs: scripts/install-deps.sh --bench (PyTorch, torchvision, Node.js + onnxruntime-node);
# optional: apt-get install libdnnl-dev before building int8_vs_ort, for the oneDNN column.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$here/build}"
shared="${SHARED:-$here/../shared}"
python="${PYTHON:-/usr/bin/python3}"
jobs="${JOBS:-2}"
torchvision=(mobilenet_v2 resnet18 resnet50 squeezenet1_1 shufflenet_v2_x1_0 mobilenet_v3_small)
shared_model="$shared/models/onnx/mobilenetv2-12-float.onnx"

usage() { sed -n '/^# usage:/,/^# Needs:/p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "run_int8_vs_ort: $*" >&2; exit 1; }

runs=20 rounds=3 warmup=3 threads="1 2" models="" layers="" max_time=20 calib=8 do_build=1 force=0 extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --runs|--rounds|--warmup|--threads|--models|--layers|--layer-threads|--max-time|--calib|--isas)
      [ $# -ge 2 ] || die "$1: missing value"
      case "$1" in
        --runs) runs="$2" ;; --rounds) rounds="$2" ;; --warmup) warmup="$2" ;; --threads) threads="$2" ;; --models) models="$2" ;;
        --layers) layers="$2" ;; --max-time) max_time="$2" ;; --calib) calib="$2" ;;
        --isas) extra+=(--isas "$2") ;; --layer-threads) extra+=(--layer-threads "$2") ;;
      esac
      shift 2 ;;
    --no-build) do_build=0; shift ;;
    --force) force=1; shift ;;
    --no-onednn) extra+=(--no-onednn); shift ;;
    --no-pin) extra+=(--no-pin); shift ;;
    *) die "unknown argument '$1' (--help lists the options)" ;;
  esac
done
[[ "$calib" =~ ^[1-9][0-9]*$ ]] || die "--calib: bad value '$calib': need an integer >= 1"
if [ -z "$models" ]; then
  models="${torchvision[*]}"
  [ -f "$shared_model" ] && models="$models mobilenetv2-12"
fi
read -r -a models <<< "${models//,/ }"
if [ -z "$layers" ]; then
  layers=none
  for m in "${models[@]}"; do [ "$m" = resnet50 ] && layers=resnet50; done
fi

# --- peers and tools ---
command -v node >/dev/null || die "node not found: scripts/install-deps.sh (or apt-get install nodejs npm)"
if [ ! -d "$here/tools/ort/node_modules/onnxruntime-node" ]; then
  echo "run_int8_vs_ort: installing onnxruntime-node into tools/ort/node_modules" >&2
  (cd "$here/tools/ort" && ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund --loglevel=error)
fi
if [ "$do_build" = 1 ]; then
  lock=()
  [ -n "${BUILD_LOCK:-}" ] && lock=(flock "$BUILD_LOCK")
  # Configure only a build folder that has none (an existing one keeps its options).
  [ -f "$build/CMakeCache.txt" ] || "${lock[@]}" cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  "${lock[@]}" cmake --build "$build" --target qmap int8_vs_ort -j"$jobs" >/dev/null
fi
qmap="$build/qmap"
bench="$build/bench/int8_vs_ort"
[ -x "$qmap" ] || die "$qmap not found (build the target qmap)"
[ -x "$bench" ] || die "$bench not found (build the target int8_vs_ort)"

# --- 1. models ---
source_model() {  # the float ONNX of a model name
  if [ "$1" = mobilenetv2-12 ]; then echo "$shared_model"; else echo "$build/models/$1.onnx"; fi
}
need_export=()
for m in "${models[@]}"; do
  if [ "$m" = mobilenetv2-12 ]; then
    [ -f "$shared_model" ] || die "mobilenetv2-12: $shared_model not found (set SHARED)"
  elif [[ " ${torchvision[*]} " == *" $m "* ]]; then
    [ -f "$build/models/$m.onnx" ] || need_export+=("$m")
  else
    die "unknown model '$m': one of ${torchvision[*]} mobilenetv2-12"
  fi
done
if [ ${#need_export[@]} -gt 0 ]; then
  "$python" -c "import torch, torchvision, onnx" 2>/dev/null ||
    die "exporting ${need_export[*]} needs PyTorch: scripts/install-deps.sh --bench (python3-torch python3-torchvision python3-onnx)"
  echo "run_int8_vs_ort: exporting ${need_export[*]} into $build/models" >&2
  "$python" "$here/tools/models/export_torchvision.py" --out "$build/models" "${need_export[@]}" 2>&1 | grep -v -i warning >&2 || true
  for m in "${need_export[@]}"; do [ -f "$build/models/$m.onnx" ] || die "export of $m failed"; done
fi

# --- calibration samples and the timed input: float32 NCHW 1x3x224x224, ImageNet-normalized ---
work="$build/bench_int8_vs_ort"
mkdir -p "$work"
data="$work/data_$calib"
if [ ! -f "$data/done" ]; then
  rm -rf "$data" && mkdir -p "$data/calib_f32"
  if [ -d "$shared/data/imagenet-calib" ]; then
    echo "run_int8_vs_ort: calibration: $calib ImageNet images from $shared/data/imagenet-calib (+1 for the timed input)" >&2
    "$qmap" preprocess --input-dir "$shared/data/imagenet-calib" --output-dir "$data/u8" --short-side-resize 256 \
      --center-crop 224 --color rgb --layout NCHW --dtype uint8 --limit $((calib + 1)) >/dev/null
    src="$data/u8"
  else
    echo "run_int8_vs_ort: calibration: $calib seeded N(0,1) samples ($shared/data/imagenet-calib not found)" >&2
    src=""
  fi
  "$python" - "$src" "$data" "$calib" <<'PY'
import os, sys
import numpy as np
src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
shape = (1, 3, 224, 224)
if src:
    files = sorted(f for f in os.listdir(src) if f.endswith(".bin"))[: n + 1]
    mean = np.array([0.485, 0.456, 0.406], np.float32).reshape(1, 3, 1, 1) * 255
    std = np.array([0.229, 0.224, 0.225], np.float32).reshape(1, 3, 1, 1) * 255
    samples = [((np.fromfile(os.path.join(src, f), np.uint8).reshape(shape).astype(np.float32) - mean) / std)
               for f in files]
else:
    rng = np.random.default_rng(20240601)
    samples = [rng.standard_normal(shape, dtype=np.float32) for _ in range(n + 1)]
if len(samples) < n + 1:
    sys.exit(f"run_int8_vs_ort: only {len(samples)} samples, {n + 1} needed")
for i, s in enumerate(samples[:n]):
    s.astype(np.float32).tofile(os.path.join(out, "calib_f32", f"sample_{i:03d}.bin"))
samples[n].astype(np.float32).tofile(os.path.join(out, "input.bin"))
PY
  touch "$data/done"
fi

# --- 2. conversion ---
dirs=()
for m in "${models[@]}"; do
  d="$work/$m"
  src="$(source_model "$m")"
  mkdir -p "$d"
  cat > "$d/$m.yaml.new" <<YAML
# bench/run_int8_vs_ort.sh: float32 featuremap input, so the .bin, the quantized ONNX and the
# float model take the same tensor.
model_parameters:
  onnx_model: '$src'
  march: generic
  working_dir: '.'
  output_model_file_prefix: '$m'
input_parameters:
  input_type_train: featuremap
  input_layout_train: NCHW
  input_type_rt: featuremap
  input_shape: 1x3x224x224
  norm_type: no_preprocess
calibration_parameters:
  cal_data_dir: '$data/calib_f32'
  cal_data_type: float32
  calibration_type: max
compiler_parameters:
  jobs: $jobs
YAML
  if cmp -s "$d/$m.yaml.new" "$d/$m.yaml"; then rm "$d/$m.yaml.new"; else mv "$d/$m.yaml.new" "$d/$m.yaml"; fi
  ln -sfn "$src" "$d/float.onnx"
  ln -sfn "$data/input.bin" "$d/input.bin"
  if [ -f "$d/$m.bin" ] && [ -f "$d/${m}_quantized_model.onnx" ] && [ "$d/$m.bin" -nt "$src" ] &&
     [ "$d/$m.bin" -nt "$d/$m.yaml" ] && [ "$d/$m.bin" -nt "$data/done" ] && [ "$d/$m.bin" -nt "$qmap" ] &&
     [ "$force" = 0 ]; then
    echo "run_int8_vs_ort: $m: up to date" >&2
  else
    echo "run_int8_vs_ort: $m: qmap makertbin" >&2
    start=$(date +%s)
    if ! (cd "$d" && "$qmap" makertbin --config "$m.yaml" --model-type onnx --no-progress > makertbin.out 2>&1); then
      tail -5 "$d/makertbin.out" >&2
      echo "run_int8_vs_ort: $m: conversion failed (log: $d/makertbin.out); left out" >&2
      rm -f "$d/$m.bin"
      continue
    fi
    echo "run_int8_vs_ort: $m: converted in $(( $(date +%s) - start )) s" >&2
  fi
  dirs+=("$d")
done
[ ${#dirs[@]} -gt 0 ] || die "no model converted"

# --- 3. measure ---
echo "run_int8_vs_ort: int8_vs_ort on ${#dirs[@]} models, threads '$threads', QMAP_ISA=${QMAP_ISA:-default}" >&2
set +e
"$bench" --runs "$runs" --rounds "$rounds" --warmup "$warmup" --threads "$threads" --max-time "$max_time" --layers "$layers" "${extra[@]}" "${dirs[@]}" |
  tee "$work/report.md"
status=${PIPESTATUS[0]}
echo "run_int8_vs_ort: report saved to $work/report.md" >&2
exit "$status"
