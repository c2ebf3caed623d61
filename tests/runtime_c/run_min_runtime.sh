#!/usr/bin/env bash
# runtime_c.min_runtime: builds min_runtime.c with the C compiler against libqmap_runtime.so
# alone (-lqmap_runtime, no other qmap library), converts tests/data/models/tiny_cnn.onnx
# (Conv/BN/Relu, MaxPool, depthwise Conv, Clip, GlobalAveragePool, Gemm and a float Softmax on
# the CPU) with `qmap makertbin`, and checks that the C program's output for one input equals,
# byte for byte, what `qmap infer --output-dir` writes for the same .bin and input.
#   run_min_runtime.sh <C compiler> <source dir> <dir of libqmap_runtime.so> <qmap binary> <work dir>
set -euo pipefail
cc="$1" src="$2" libdir="$3" qmap="$4" work="$5"
rm -rf "$work"
mkdir -p "$work/calib"
cd "$work"

"$cc" -std=c99 -Wall -Wextra -Werror "$src/tests/runtime_c/min_runtime.c" -I"$src/include" \
  -L"$libdir" -lqmap_runtime -Wl,-rpath,"$libdir" -o min_runtime

# Deterministic uint8 inputs (16x16x3 = 768 bytes): slices of the model file's bytes.
model="$src/tests/data/models/tiny_cnn.onnx"
for i in 0 1 2 3; do tail -c +$((1 + 768 * i)) "$model" | head -c 768 > "calib/s$i.bin"; done
tail -c +$((1 + 768 * 4)) "$model" | head -c 768 > x.bin
[ "$(stat -c %s x.bin)" = 768 ] || { echo "tiny_cnn.onnx is too small for the test input" >&2; exit 1; }

cat > cfg.yaml <<YAML
model_parameters:
  onnx_model: '$model'
  march: generic
  output_model_file_prefix: tiny
input_parameters:
  input_name: input
  input_type_train: rgb
  input_layout_train: NCHW
  input_type_rt: rgb
  input_layout_rt: NHWC
  norm_type: data_mean_and_scale
  mean_value: 123.675 116.28 103.53
  scale_value: 0.017125 0.017507 0.017429
calibration_parameters:
  cal_data_dir: calib
  calibration_type: max
YAML
"$qmap" makertbin --config cfg.yaml --model-type onnx --no-progress > makertbin.log
"$qmap" infer -m model_output/tiny.bin --input x.bin --output-dir infer_out > infer.log
./min_runtime model_output/tiny.bin x.bin c_output.bin
[ "$(stat -c %s c_output.bin)" = 40 ] || { echo "c_output.bin: $(stat -c %s c_output.bin) bytes, 1x10 float32 = 40 expected" >&2; exit 1; }
cmp infer_out/output.bin c_output.bin
echo "min_runtime (C, -lqmap_runtime only) == qmap infer, byte for byte"
