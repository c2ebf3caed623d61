#!/usr/bin/env bash
# Configures and builds qmap (Release) into build/.
#   scripts/build.sh                 everything: qmap, the Python module, the runtime library,
#                                    tests and benchmarks (what scripts/test.sh needs)
#   scripts/build.sh --target T ...  only the named targets and what they need (scripts/demo.sh
#                                    builds `qmap` and `_qmap`, the Python module)
# Other arguments go to cmake's configure step (e.g. -DQMAP_SANITIZE=ON). BUILD_DIR overrides
# build/. ccache is used when installed (scripts/install-deps.sh installs it), so a rebuild of
# an unchanged tree takes seconds. Parallel jobs: one per core (JOBS overrides); the heaviest
# translation units need about 1 GiB each.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$here/build}"
targets=()
configure=()
while [ $# -gt 0 ]; do
  case "$1" in
    --target) targets+=(--target "$2"); shift 2 ;;
    *) configure+=("$1"); shift ;;
  esac
done
# Paths under the checkout are hashed relative to it, so another clone (CI) reuses the cache.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$here}"
launcher=()
if command -v ccache >/dev/null 2>&1; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache); fi
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" "${configure[@]}" >/dev/null
cmake --build "$build" -j"${JOBS:-$(nproc)}" "${targets[@]}"
