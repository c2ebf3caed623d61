#!/usr/bin/env bash
# Real models end to end through the CLI (issue 5, item 9), reading ../shared:
#   - Caffe LeNet on MNIST: calibration on the first 100 t10k images, evaluation on all 10,000;
#   - MobileNetV2 (ONNX) on ImageNet: calibration on imagenet-calib (100), evaluation on
#     imagenet-dev (300), short side 256 + center crop 224.
# For each: qmap makertbin (calibration_type default), then qmap eval with the original float
# model, the quantized ONNX (integer simulator) and the .bin (runtime library) side by side.
#   bench/run_real_models.sh [lenet|mobilenetv2 ...]    (default: both)
# Environment: BUILD_DIR (default <repo>/build), SHARED (default <repo>/../shared), JOBS (2).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
. "$here/bench/mobilenetv2_yaml.sh"
build="${BUILD_DIR:-$here/build}"
shared="${SHARED:-$here/../shared}"
jobs="${JOBS:-2}"
python=/usr/bin/python3
which=("$@")
[ ${#which[@]} -gt 0 ] || which=(lenet mobilenetv2)
[ -d "$shared/models" ] || { echo "run_real_models: $shared not found (set SHARED)" >&2; exit 1; }
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target qmap -j2 >/dev/null
qmap="$build/qmap"
work="$build/bench_real_models"
mkdir -p "$work"

lenet() {
  local d="$work/lenet"
  rm -rf "$d" && mkdir -p "$d" && cd "$d"
  # MNIST's idx files have Fashion-MNIST's layout and names: the demo's tool reads both.
  "$python" "$here/tools/fashion_mnist_images.py" calib --split test --count 100 --data-dir "$shared/data/mnist" >/dev/null
  "$python" "$here/tools/fashion_mnist_images.py" eval --split test --data-dir "$shared/data/mnist" >/dev/null
  "$qmap" preprocess --input-dir calib --output-dir caldata --color gray --layout NCHW --dtype uint8 >/dev/null
  cat > lenet.yaml <<YAML
model_parameters:
  prototxt: '$shared/models/caffe/lenet/mnist_deploy.prototxt'
  caffe_model: '$shared/models/caffe/lenet/lenet_iter_10000.caffemodel'
  march: generic
  output_model_file_prefix: lenet
input_parameters:
  input_type_train: gray
  input_layout_train: NCHW
  input_type_rt: gray
  input_layout_rt: NCHW
  norm_type: data_scale
  scale_value: 0.00390625
calibration_parameters:
  cal_data_dir: caldata
  calibration_type: default
YAML
  "$qmap" makertbin --config lenet.yaml --model-type caffe --no-progress | grep -E "Select|conversion took"
  "$qmap" eval --model model_output/lenet_original_float_model.onnx --model model_output/lenet_quantized_model.onnx \
    --model model_output/lenet.bin --data eval --labels eval/labels.txt --jobs "$jobs" | grep -vE "^===REPORT|^[0-9.]+$"
}

mobilenetv2() {
  local d="$work/mobilenetv2"
  rm -rf "$d" && mkdir -p "$d" && cd "$d"
  "$qmap" preprocess --input-dir "$shared/data/imagenet-calib" --output-dir caldata --short-side-resize 256 \
    --center-crop 224 --color rgb --layout NCHW --dtype uint8 >/dev/null
  mobilenetv2_yaml "$shared" caldata default "$jobs" > mobilenetv2.yaml
  "$qmap" makertbin --config mobilenetv2.yaml --model-type onnx --no-progress | grep -E "Select|conversion took"
  "$qmap" eval --model model_output/mobilenetv2_original_float_model.onnx \
    --model model_output/mobilenetv2_quantized_model.onnx --model model_output/mobilenetv2.bin \
    --data "$shared/data/imagenet-dev" --labels "$shared/data/imagenet-dev/labels.txt" \
    --short-side-resize 256 --center-crop 224 --jobs "$jobs" | grep -vE "^===REPORT|^[0-9.]+$"
}

echo "run_real_models $(date -u +%Y-%m-%d), $jobs jobs"
for m in "${which[@]}"; do echo; echo "== $m"; "$m"; done
