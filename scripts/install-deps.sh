#!/usr/bin/env bash
# Installs everything qmap needs to build and test, from Debian 12 packages and npm.
#   scripts/install-deps.sh          build + test dependencies
#   scripts/install-deps.sh --bench  also PyTorch/torchvision for the benchmark models
#   scripts/install-deps.sh --fuzz   also clang and its runtime libraries (libFuzzer, ASan,
#                                    UBSan) for scripts/fuzz.sh
# Runs apt-get as root (uses sudo when not root). Safe to run again.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

packages=(
  build-essential cmake pkg-config git
  libprotobuf-dev protobuf-compiler libonnx-dev libonnx-testdata
  libyaml-cpp-dev libcli11-dev nlohmann-json3-dev libfmt-dev libspdlog-dev
  libopenblas-dev libjpeg62-turbo-dev libpng-dev libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-numpy python3-onnx python3-protobuf zlib1g-dev
  python3-dev pybind11-dev
  dataset-fashion-mnist ccache
  graphviz chromium  # qmap perf: the graph picture (dot); its test opens the report headless
  file dpkg-dev  # cpack -G DEB: `file` finds the ELF files dpkg-shlibdeps reads (tests/install)
)
# Node.js for the ONNX Runtime peer: Debian's nodejs + npm, unless a Node.js with npm is
# already there (some images ship NodeSource's nodejs, which bundles npm and conflicts
# with Debian's npm package).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi
for a in "$@"; do
  case "$a" in
    --bench) packages+=(python3-torch python3-torchvision) ;;
    --fuzz) packages+=(clang libclang-rt-dev) ;;  # Debian 12: clang 14, libclang-rt-14-dev
    *) echo "install-deps: unknown option '$a': --bench, --fuzz" >&2; exit 2 ;;
  esac
done

$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${packages[@]}"

# ONNX Runtime (CPU) as the peer for agreement tests and benchmarks. The package's install
# script only tries to download GPU parts, which is skipped; the CPU library ships inside.
if [ -f "$here/tools/ort/package.json" ] && [ ! -d "$here/tools/ort/node_modules/onnxruntime-node" ]; then
  (cd "$here/tools/ort" && ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund --loglevel=error)
fi
echo "install-deps: done"
