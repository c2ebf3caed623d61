#!/usr/bin/env bash
# The main job, end to end: a Fashion-MNIST classifier the project trained itself
# (examples/fashion_mnist/, tools/train_fashion_mnist.py) on Debian's dataset-fashion-mnist,
# converted from ONNX and from Caffe the way a user of hb_mapper would:
#   checker -> calibration images -> qmap preprocess -> makertbin (ONNX and Caffe)
#   -> infer on one test image -> eval float vs int8 side by side -> info on the .bin
# Everything is written under build/demo/. Builds only qmap and the Python module (about 8
# minutes on 2 cores from a clean tree, seconds when built), then runs in under a minute.
#   scripts/demo.sh [--eval-images N]    (default 10000: the whole test split)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
eval_images=10000
while [ $# -gt 0 ]; do
  case "$1" in
    --eval-images) eval_images="$2"; shift 2 ;;
    *) echo "usage: $0 [--eval-images N]" >&2; exit 2 ;;
  esac
done
python=/usr/bin/python3
data=/usr/share/datasets/fashion-mnist
[ -f "$data/t10k-images-idx3-ubyte.gz" ] || { echo "demo: $data missing: apt-get install dataset-fashion-mnist (scripts/install-deps.sh does)" >&2; exit 1; }

# Only what the demo runs: the qmap command (and the Python module, for the examples); the
# tests are built by scripts/test.sh.
build_start=$(date +%s)
"$here/scripts/build.sh" --target qmap --target _qmap
echo "demo: build took $(( $(date +%s) - build_start )) s"
qmap="$here/build/qmap"
example="$here/examples/fashion_mnist"
out="$here/build/demo"
rm -rf "$out"
mkdir -p "$out"
cd "$out"
# The YAMLs name paths relative to their own folder: give them a folder with the model.
ln -s "$example/model" model
cp "$example/fashion_onnx.yaml" "$example/fashion_caffe.yaml" .
start=$(date +%s)

step() { echo; echo "== $*"; }

step "1. checker: where does each node run on march generic?"
"$qmap" checker --model-type onnx --model model/fashion_cnn.onnx --march generic | tail -n +1

step "2. calibration images (100, train split) and evaluation images ($eval_images, test split) as PNG"
"$python" "$here/tools/fashion_mnist_images.py" calib_images --split train --count 100 >/dev/null
"$python" "$here/tools/fashion_mnist_images.py" eval_images --split test --count "$eval_images" >/dev/null
echo "calib_images/: $(ls calib_images | grep -c png) images; eval_images/: $(ls eval_images | grep -c png) images + labels.txt"

step "3. qmap preprocess: PNG -> raw uint8 gray 1x28x28 calibration files"
"$qmap" preprocess --input-dir calib_images --output-dir calibration_data --color gray --layout NCHW --dtype uint8

step "4. qmap makertbin (ONNX model)"
"$qmap" makertbin --config fashion_onnx.yaml --model-type onnx --no-progress | tail -n 25

step "5. qmap makertbin (the same network as Caffe)"
sed -e 's#model_output#model_output_caffe#' fashion_caffe.yaml > fashion_caffe_local.yaml
"$qmap" makertbin --config fashion_caffe_local.yaml --model-type caffe --no-progress | grep -E "Select|Output|^prob|took"

first="$(head -n 1 eval_images/labels.txt | cut -d' ' -f1)"
step "6. qmap infer on $first (label $(head -n 1 eval_images/labels.txt | cut -d' ' -f2)) with the deployable int8 .bin"
"$qmap" infer --model model_output/fashion_cnn.bin --image "eval_images/$first" \
  --labels model/labels.txt

step "7. qmap eval: float vs int8 (quantized ONNX, .bin, and the .bin made from Caffe) on $eval_images test images"
"$qmap" eval --model model_output/fashion_cnn_original_float_model.onnx \
  --model model_output/fashion_cnn_quantized_model.onnx --model model_output/fashion_cnn.bin \
  --model model_output_caffe/fashion_cnn.bin --data eval_images --labels eval_images/labels.txt \
  --json eval_report.json | tee eval.txt

step "8. qmap info on the deployable model"
"$qmap" info model_output/fashion_cnn.bin | head -n 30

echo
echo "== demo summary ($(( $(date +%s) - start )) s)"
echo "model:        examples/fashion_mnist/model/fashion_cnn.onnx (and .prototxt/.caffemodel)"
echo "outputs:      $out/model_output/ (original/optimized/quantized ONNX, .bin, calibration table, makertbin.log)"
echo "              $out/model_output_caffe/ (the same from the Caffe model)"
echo "eval:         $out/eval.txt, $out/eval_report.json"
grep -E "^model_output" eval.txt | head -n 5 || true
