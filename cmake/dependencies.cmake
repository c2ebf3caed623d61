# Every dependency comes from a Debian package installed by scripts/install-deps.sh.
find_package(Threads REQUIRED)
find_package(fmt REQUIRED)
find_package(Protobuf REQUIRED)
find_package(ONNX REQUIRED)
find_package(yaml-cpp REQUIRED)
# Image decoding for calibration data, infer and eval: libjpeg-turbo and libpng (the same
# decoders PIL and OpenCV use, so pixels match the Python pipelines users compare with).
find_package(JPEG REQUIRED)
find_package(PNG REQUIRED)

# OpenBLAS (sgemm behind the float engine's heavy ops). Debian ships several variants;
# pick the one the cblas.h in the pkg-config file belongs to.
find_package(PkgConfig REQUIRED)
pkg_check_modules(OPENBLAS REQUIRED IMPORTED_TARGET openblas)
add_library(qmap::openblas ALIAS PkgConfig::OPENBLAS)

if(QMAP_BUILD_TESTS OR QMAP_FUZZ)  # fuzz/make_seeds.cpp uses the tests' helpers
  find_package(GTest REQUIRED)
endif()
