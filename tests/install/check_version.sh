#!/usr/bin/env bash
# install.version / install.tree: `qmap --version` prints the release, the git commit, the
# build type and the kernel ISAs compiled in, exactly as this build recorded them.
#   check_version.sh <qmap> <version> <git commit> <build type> "<isa> <isa> ..."
set -euo pipefail
qmap="$1" version="$2" commit="$3" build_type="$4" isas="$5"
got=$("$qmap" --version)
want="qmap $version
git commit: $commit
build type: $build_type
ISAs compiled in: $isas"
if [ "$got" != "$want" ]; then
  echo "$qmap --version printed:" >&2; echo "$got" >&2
  echo "expected:" >&2; echo "$want" >&2
  exit 1
fi
echo "$got"
