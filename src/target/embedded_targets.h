// The targets/*.yaml texts compiled into the binary, so `--march generic` works from any
// directory. The definition is generated at build time by cmake/embed_targets.cmake.
#pragma once

#include <span>
#include <string_view>

namespace qmap {

struct EmbeddedTarget {
  std::string_view name;  // file name without .yaml
  std::string_view text;  // the file's bytes
};

// Sorted by name.
std::span<const EmbeddedTarget> embedded_targets();

}  // namespace qmap
