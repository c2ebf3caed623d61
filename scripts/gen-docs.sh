#!/usr/bin/env bash
# Regenerates the docs that are generated from the code (docs/ops.md, docs/targets.md).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
"$here/scripts/build.sh"
"$here/build/qmap" ops --markdown > "$here/docs/ops.md"
if "$here/build/qmap" checker --help 2>/dev/null | grep -q -- --print-spec-md; then
  "$here/build/qmap" checker --print-spec-md > "$here/docs/targets.md"
fi
echo "gen-docs: docs/ops.md$( [ -f "$here/docs/targets.md" ] && echo ', docs/targets.md') written"
