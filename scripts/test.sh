#!/usr/bin/env bash
# Builds qmap and runs every test (unit, ONNX conformance, ONNX Runtime agreement, end-to-end).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
"$here/scripts/build.sh"
cd "$here/build"
ctest --output-on-failure -j"$(nproc)"
