// File I/O helpers. Writes go to a temporary file in the same folder and are renamed into
// place, so an interrupted run never leaves a half-written output (DESIGN.md §3.5).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace qmap {

// Reads a whole file; errors name the path and the OS reason.
Result<std::string> read_file(const std::string& path);

// Writes `data` to `path` atomically (temp file + fsync + rename).
Status write_file_atomic(const std::string& path, std::string_view data);

}  // namespace qmap
