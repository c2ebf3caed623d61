#!/usr/bin/env bash
# runtime_c.min_runtime: builds min_runtime.c with the C compiler against libqmap_runtime.so
# alone (-lqmap_runtime, no other qmap library), converts tests/data/models/tiny_cnn.onnx with
# `qmap makertbin` (tests/make_tiny_bin.sh), and checks that the C program's output for one
# input equals, byte for byte, what `qmap infer --output-dir` writes for the same .bin and input;
# a .bin of a newer format is refused with both format versions named.
#   run_min_runtime.sh <C compiler> <source dir> <dir of libqmap_runtime.so> <qmap binary> <work dir>
set -euo pipefail
cc="$1" src="$2" libdir="$3" qmap="$4" work="$5"
rm -rf "$work"
mkdir -p "$work"
cd "$work"

"$cc" -std=c99 -Wall -Wextra -Werror "$src/tests/runtime_c/min_runtime.c" -I"$src/include" \
  -L"$libdir" -lqmap_runtime -Wl,-rpath,"$libdir" -o min_runtime

"$src/tests/make_tiny_bin.sh" "$qmap" "$src" "$work"
./min_runtime model_output/tiny.bin x.bin c_output.bin
[ "$(stat -c %s c_output.bin)" = 40 ] || { echo "c_output.bin: $(stat -c %s c_output.bin) bytes, 1x10 float32 = 40 expected" >&2; exit 1; }
cmp infer_out/output.bin c_output.bin

# A .bin of a newer format (version field at offset 8 set to 99) is refused, naming both
# format versions.
cp model_output/tiny.bin newer.bin
printf '\x63\x00\x00\x00' | dd of=newer.bin bs=1 seek=8 conv=notrunc status=none
if ./min_runtime newer.bin x.bin newer_out.bin 2> newer.err; then
  echo "a format v99 .bin was accepted" >&2; exit 1
fi
grep -qE "^min_runtime: load: bin 'newer.bin': made by a newer qmap \(format v99; this qmap reads v[0-9]+\)$" newer.err ||
  { echo "unexpected error for a format v99 .bin:" >&2; cat newer.err >&2; exit 1; }
echo "min_runtime (C, -lqmap_runtime only) == qmap infer, byte for byte"
