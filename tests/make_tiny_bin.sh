#!/usr/bin/env bash
# Makes a small .bin, an input for it and qmap infer's output for that input, for tests that
# run the .bin through the runtime library some other way (runtime_c.min_runtime, install.*).
#   make_tiny_bin.sh <qmap binary> <source dir> <work dir>
# Converts tests/data/models/tiny_cnn.onnx (Conv/BN/Relu, MaxPool, depthwise Conv, Clip,
# GlobalAveragePool, Gemm and a float Softmax on the CPU; uint8 rgb NHWC 16x16x3 input) with
# `qmap makertbin` in <work dir>, and writes there:
#   model_output/tiny.bin   the model
#   x.bin                   one input (768 bytes)
#   infer_out/output.bin    `qmap infer --output-dir`'s output for x.bin (1x10 float32)
set -euo pipefail
qmap="$1" src="$2" work="$3"
mkdir -p "$work/calib"
cd "$work"

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
[ "$(stat -c %s infer_out/output.bin)" = 40 ] || { echo "infer_out/output.bin: 1x10 float32 = 40 bytes expected" >&2; exit 1; }
