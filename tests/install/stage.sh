#!/usr/bin/env bash
# install.stage: `cmake --install <build> --prefix <stage>`, every component, into a fresh folder.
#   stage.sh <cmake> <build dir> <stage dir>
set -euo pipefail
cmake="$1" build="$2" stage="$3"
rm -rf "$stage"
"$cmake" --install "$build" --prefix "$stage" > "$stage.log"
echo "installed into $stage: $(find "$stage" -type f | wc -l) files"
