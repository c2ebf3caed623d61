#!/usr/bin/env bash
# install.consumer_cmake: examples/consumer, a standalone CMake project doing
# find_package(qmap 0.1 REQUIRED) and linking qmap::runtime, configured in a clean build folder
# against a moved copy of the installed tree, runs a .bin made by the moved qmap and gives, byte
# for byte, qmap infer's output; the same program linked with qmap::runtime_static does too.
# A wrong-size input fails with one line naming the file; find_package(qmap 0.2) fails (0.x:
# same minor version only).
#   check_consumer_cmake.sh <cmake> <stage> <work> <source dir> <version>
set -euo pipefail
# grep that reads all its input (grep -q exits early: with pipefail the writer's SIGPIPE fails)
contains() { grep "$@" > /dev/null; }
cmake="$1" stage="$2" work="$3" src="$4" version="$5"
rm -rf "$work"
mkdir -p "$work"
cp -a "$stage" "$work/prefix"
prefix="$work/prefix"
cd "$work"

"$src/tests/make_tiny_bin.sh" "$prefix/bin/qmap" "$src" "$work/model"
"$cmake" -S "$src/examples/consumer" -B build-shared -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release > configure.log
"$cmake" --build build-shared > build.log
readelf -d build-shared/qmap_consumer | contains 'NEEDED.*\[libqmap_runtime\.so\.'"${version%%.*}"'\]' ||
  { echo "qmap_consumer does not need libqmap_runtime.so.${version%%.*}" >&2; exit 1; }
build-shared/qmap_consumer model/model_output/tiny.bin model/x.bin out_shared.bin | tee run_shared.log
grep -qx "qmap runtime $version" run_shared.log
cmp model/infer_out/output.bin out_shared.bin

# The same source against the static library (the whole runtime in one archive).
mkdir -p static_src
cat > static_src/CMakeLists.txt <<CMAKE
cmake_minimum_required(VERSION 3.16)
project(qmap_consumer_static LANGUAGES CXX)
find_package(qmap 0.1 REQUIRED)
add_executable(qmap_consumer "$src/examples/consumer/main.cpp")
target_link_libraries(qmap_consumer PRIVATE qmap::runtime_static)
CMAKE
"$cmake" -S static_src -B build-static -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release > configure_static.log
"$cmake" --build build-static > build_static.log
if readelf -d build-static/qmap_consumer | contains 'NEEDED.*libqmap_runtime'; then
  echo "the static consumer needs libqmap_runtime.so" >&2; exit 1
fi
build-static/qmap_consumer model/model_output/tiny.bin model/x.bin out_static.bin > run_static.log
cmp model/infer_out/output.bin out_static.bin

# Bad input: one line naming the file, the sizes and the input; exit 1.
head -c 700 model/x.bin > short.bin
if build-shared/qmap_consumer model/model_output/tiny.bin short.bin > short.log 2>&1; then
  echo "a 700-byte input was accepted" >&2; exit 1
fi
grep -qx "ERROR qmap_consumer: short.bin: 700 bytes, but input 'input' (uint8 rgb NHWC) takes 768" short.log ||
  { echo "unexpected error for a short input:" >&2; cat short.log >&2; exit 1; }

# The version check of qmapConfigVersion.cmake.
mkdir -p too_new
cat > too_new/CMakeLists.txt <<'CMAKE'
cmake_minimum_required(VERSION 3.16)
project(too_new LANGUAGES NONE)
find_package(qmap 0.2 REQUIRED)
CMAKE
if "$cmake" -S too_new -B build-too-new -DCMAKE_PREFIX_PATH="$prefix" > too_new.log 2>&1; then
  echo "find_package(qmap 0.2) accepted qmap $version" >&2; exit 1
fi
grep -qF "qmapConfig.cmake, version: $version" too_new.log ||
  { echo "find_package(qmap 0.2) failed, but not for the version:" >&2; cat too_new.log >&2; exit 1; }
echo "consumer (find_package(qmap), shared and static) == qmap infer, byte for byte"
