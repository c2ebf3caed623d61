#!/usr/bin/env bash
# Configures and builds qmap (Release) into build/. Extra arguments go to cmake.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cmake -S "$here" -B "$here/build" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build "$here/build" -j"$(nproc)"
