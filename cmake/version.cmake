# The build's identity for `qmap --version` and qmap::rt::version() (src/runtime/version.cpp):
# the project version, the git commit the build was configured at and the build type, written
# to build/generated/runtime/build_info.h at configure time. scripts/build.sh configures on
# every run, so the commit is the one of the last build.sh; a plain `cmake --build` after a
# commit keeps the previous one (the tests read the same CMake variables, so they agree).
# configure_file rewrites the header only when a value changed: only version.cpp recompiles.
find_package(Git QUIET)
set(QMAP_GIT_COMMIT "unknown")
if(GIT_FOUND)
  execute_process(COMMAND ${GIT_EXECUTABLE} -C ${CMAKE_SOURCE_DIR} rev-parse --short=12 HEAD
                  OUTPUT_VARIABLE _qmap_commit RESULT_VARIABLE _qmap_git_rc ERROR_QUIET
                  OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(_qmap_git_rc EQUAL 0 AND _qmap_commit MATCHES "^[0-9a-f]+$")
    set(QMAP_GIT_COMMIT "${_qmap_commit}")
  endif()
endif()
configure_file(${CMAKE_SOURCE_DIR}/src/runtime/build_info.h.in ${CMAKE_BINARY_DIR}/generated/runtime/build_info.h @ONLY)
