#!/usr/bin/env bash
# The main job, end to end on a bundled model. Today: build, then `qmap checker` on a small
# CNN (which ops run on the NPU of march `generic`, which fall back to CPU and why), then the
# IR dump. Later milestones extend this to the full conversion (makertbin -> infer -> eval).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
"$here/scripts/build.sh"
out="$here/build/demo"
mkdir -p "$out"
cd "$out"
model="$here/tests/data/models/tiny_cnn.onnx"

echo "== qmap checker on $(basename "$model")"
"$here/build/qmap" checker --model-type onnx --model "$model" --march generic

echo
echo "== qmap info --ir (the imported IR, shapes inferred)"
"$here/build/qmap" info --ir "$model" | head -n 12
echo "..."
echo
echo "demo: done. The checker log is $out/qmap_checker.log"
