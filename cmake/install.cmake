# Install rules (GNUInstallDirs), the CMake package qmap (qmap::runtime), qmap_runtime.pc and
# the Debian packages (CPack). Included at the end of the top-level CMakeLists.txt.
#
# Components, one Debian package each (CPack below) except python:
#   runtime      lib/libqmap_runtime.so.0*                       -> libqmap-runtime0
#   runtime_dev  lib/libqmap_runtime.so (link), lib/libqmap_runtime.a (self-contained),
#                include/qmap/, lib/cmake/qmap/, lib/pkgconfig/qmap_runtime.pc
#                                                                -> libqmap-runtime-dev
#   tools        bin/qmap, share/qmap/targets/*.yaml             -> qmap
#   python       the qmap Python module (python/CMakeLists.txt)
# `cmake --install build --prefix P` installs all four. Every path inside the tree is relative
# to it (the CMake package and the .pc file locate the prefix from their own directory; no
# RPATH: the runtime links only libc/libstdc++, qmap only system libraries), so the tree
# works after it is moved; tests/install checks this.
include(CMakePackageConfigHelpers)

# `make install` and cpack install what is built and do not first build `all`: cpack runs in a
# test (tests/install) while the suite runs, and must not start a second build in build/.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY TRUE)

set(QMAP_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/qmap)

# --- runtime + runtime_dev ---
install(TARGETS qmap_runtime_shared EXPORT qmapTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT runtime_dev
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/include/qmap DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  COMPONENT runtime_dev FILES_MATCHING PATTERN "*.h")

# The static library a user links must hold the whole runtime, not just src/runtime/: the build's
# libqmap_runtime.a leaves the program, ops, kernels and core layers in their own archives.
# One archive of all of them (ar's MRI script), installed as libqmap_runtime.a.
set(QMAP_RUNTIME_STATIC_PARTS qmap_runtime ${QMAP_RUNTIME_DEPS})
set(QMAP_BUNDLE_DIR ${CMAKE_BINARY_DIR}/runtime_bundle)
set(_mri "create ${QMAP_BUNDLE_DIR}/libqmap_runtime.a\n")
foreach(t ${QMAP_RUNTIME_STATIC_PARTS})
  string(APPEND _mri "addlib $<TARGET_FILE:${t}>\n")
endforeach()
string(APPEND _mri "save\nend\n")
file(GENERATE OUTPUT ${QMAP_BUNDLE_DIR}/bundle.mri CONTENT "${_mri}")
set(_parts)
foreach(t ${QMAP_RUNTIME_STATIC_PARTS})
  list(APPEND _parts $<TARGET_FILE:${t}>)
endforeach()
add_custom_command(OUTPUT ${QMAP_BUNDLE_DIR}/libqmap_runtime.a
  COMMAND ${CMAKE_COMMAND} -E rm -f ${QMAP_BUNDLE_DIR}/libqmap_runtime.a
  COMMAND ${CMAKE_AR} -M < ${QMAP_BUNDLE_DIR}/bundle.mri
  DEPENDS ${QMAP_RUNTIME_STATIC_PARTS} ${_parts} ${QMAP_BUNDLE_DIR}/bundle.mri
  COMMENT "Bundling the runtime's static libraries into runtime_bundle/libqmap_runtime.a")
add_custom_target(qmap_runtime_bundle ALL DEPENDS ${QMAP_BUNDLE_DIR}/libqmap_runtime.a)
install(FILES ${QMAP_BUNDLE_DIR}/libqmap_runtime.a DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime_dev)

install(EXPORT qmapTargets NAMESPACE qmap:: DESTINATION ${QMAP_INSTALL_CMAKEDIR} COMPONENT runtime_dev)
configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/qmapConfig.cmake.in
  ${CMAKE_BINARY_DIR}/install/qmapConfig.cmake
  INSTALL_DESTINATION ${QMAP_INSTALL_CMAKEDIR}
  PATH_VARS CMAKE_INSTALL_LIBDIR CMAKE_INSTALL_INCLUDEDIR)
# 0.x: a minor release may break the API, so 0.1 accepts 0.1.z only (SameMinorVersion).
write_basic_package_version_file(${CMAKE_BINARY_DIR}/install/qmapConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/install/qmapConfig.cmake ${CMAKE_BINARY_DIR}/install/qmapConfigVersion.cmake
  DESTINATION ${QMAP_INSTALL_CMAKEDIR} COMPONENT runtime_dev)

# pkg-config: prefix from the .pc file's own directory (${pcfiledir}), so the tree can move.
file(RELATIVE_PATH QMAP_PC_TO_PREFIX ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" QMAP_PC_TO_PREFIX "${QMAP_PC_TO_PREFIX}")
configure_file(${CMAKE_SOURCE_DIR}/cmake/qmap_runtime.pc.in ${CMAKE_BINARY_DIR}/install/qmap_runtime.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/install/qmap_runtime.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
  COMPONENT runtime_dev)

# --- tools: qmap and the march specs (installed_targets_dir() in src/target/target_spec.h finds
# them relative to bin/qmap; the built-in ones are also compiled into qmap) ---
install(TARGETS qmap RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT tools)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/targets/ DESTINATION ${CMAKE_INSTALL_DATADIR}/qmap/targets
  COMPONENT tools FILES_MATCHING PATTERN "*.yaml")

# --- Debian packages: `cpack -G DEB` (tests/install/check_debs.sh) ---
set(CPACK_PACKAGE_NAME qmap)
set(CPACK_PACKAGE_VENDOR "qmap")
set(CPACK_PACKAGE_CONTACT "qmap maintainers <qmap@localhost>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_GENERATOR DEB)
set(CPACK_COMPONENTS_ALL runtime runtime_dev tools)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # <name>_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)   # Depends from dpkg-shlibdeps (libc6, libstdc++6, ...)
# A shlibs control file (and the ldconfig trigger) in every package with a shared library,
# i.e. libqmap-runtime0, so packages built against it get "Depends: libqmap-runtime0".
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
# Each component's description: its first line is the package's synopsis (no
# CPACK_PACKAGE_DESCRIPTION_SUMMARY, which CPack would put before every one of them).
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://localhost/qmap")

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME libqmap-runtime${PROJECT_VERSION_MAJOR})
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION libs)
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION "qmap int8 CNN runtime library
Runs .bin models written by qmap makertbin with int8 kernels chosen for the CPU
(AVX-512 VNNI, AVX2 or the scalar reference). Needs only the C/C++ runtime libraries.")

set(CPACK_DEBIAN_RUNTIME_DEV_PACKAGE_NAME libqmap-runtime-dev)
set(CPACK_DEBIAN_RUNTIME_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_RUNTIME_DEV_PACKAGE_DEPENDS "libqmap-runtime${PROJECT_VERSION_MAJOR} (= ${PROJECT_VERSION})")
set(CPACK_COMPONENT_RUNTIME_DEV_DESCRIPTION "qmap int8 CNN runtime library - development files
Headers (C++ and C API), the static library, the CMake package (find_package(qmap),
qmap::runtime) and the pkg-config file qmap_runtime.pc.")

set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME qmap)
set(CPACK_DEBIAN_TOOLS_PACKAGE_SECTION science)
set(CPACK_COMPONENT_TOOLS_DESCRIPTION "int8 conversion toolchain for CNN models
qmap converts float ONNX and Caffe models into int8 .bin models (checker, makertbin, infer,
eval, verify, info), with the march specs it reads.")
include(CPack)
