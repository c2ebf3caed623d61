#!/usr/bin/env bash
# Float engine vs ONNX Runtime on the six torchvision models (+ ../shared's mobilenetv2-12
# when present), 1 thread. Exports the models if missing, installs onnxruntime-node if
# missing, builds float_vs_ort and runs it. Extra arguments go to float_vs_ort
# (e.g. --runs 50, or model paths instead of the default set).
#   bench/run_float_vs_ort.sh [--runs N] [--warmup N] [MODEL.onnx | DIR ...]
# Environment: BUILD_DIR (default <repo>/build), PYTHON (default /usr/bin/python3: Debian's
# interpreter with python3-torch/torchvision/onnx), JOBS (default 2).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$here/build}"
python="${PYTHON:-/usr/bin/python3}"

command -v node >/dev/null || { echo "run_float_vs_ort: node not found: apt-get install nodejs npm" >&2; exit 1; }
if [ ! -d "$here/tools/ort/node_modules/onnxruntime-node" ]; then
  echo "run_float_vs_ort: installing onnxruntime-node into tools/ort/node_modules"
  (cd "$here/tools/ort" && ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund --loglevel=error)
fi

# Models go to <build>/models, where float_vs_ort looks by default (skips existing files).
"$python" "$here/tools/models/export_torchvision.py" --out "$build/models" 2>&1 | grep -v -i warning || true
for m in mobilenet_v2 resnet18 resnet50 squeezenet1_1 shufflenet_v2_x1_0 mobilenet_v3_small; do
  [ -f "$build/models/$m.onnx" ] || { echo "run_float_vs_ort: $build/models/$m.onnx missing (needs python3-torch python3-torchvision python3-onnx)" >&2; exit 1; }
done

cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target float_vs_ort -j"${JOBS:-2}" >/dev/null

# One thread for every library in both processes; timings are wall clock.
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
exec "$build/bench/float_vs_ort" "$@"
