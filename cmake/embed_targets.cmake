# Generates a .cpp that holds every targets/*.yaml text (see src/target/embedded_targets.h).
# Run as: cmake -DSPEC_DIR=<dir> -DOUT=<file.cpp> -P embed_targets.cmake
# Each text becomes a raw string literal; a spec containing the delimiter is rejected rather
# than silently truncated.
file(GLOB specs "${SPEC_DIR}/*.yaml")
list(SORT specs)
set(delim "qmap_spec")
set(body "")
foreach(f ${specs})
  get_filename_component(name "${f}" NAME_WE)
  file(READ "${f}" text)
  string(FIND "${text}" ")${delim}\"" found)
  if(NOT found EQUAL -1)
    message(FATAL_ERROR "${f}: contains the raw-string delimiter ')${delim}\"'")
  endif()
  string(APPEND body "    {\"${name}\", R\"${delim}(${text})${delim}\"},\n")
endforeach()
set(content "// Generated from ${SPEC_DIR}/*.yaml by cmake/embed_targets.cmake; do not edit.
#include \"target/embedded_targets.h\"

namespace qmap {
namespace {
constexpr EmbeddedTarget kTargets[] = {
${body}    {\"\", \"\"},  // sentinel: keeps the array non-empty when targets/ is empty
};
}  // namespace

std::span<const EmbeddedTarget> embedded_targets() {
  return std::span<const EmbeddedTarget>(kTargets, std::size(kTargets) - 1);
}

}  // namespace qmap
")
# Write only when changed so an unrelated reconfigure does not rebuild the target library.
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
  if(old STREQUAL content)
    return()
  endif()
endif()
file(WRITE "${OUT}" "${content}")
