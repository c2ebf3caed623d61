// File I/O helpers. Writes go to a temporary file in the same folder and are renamed into
// place, so an interrupted run never leaves a half-written output (DESIGN.md §3.5).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace qmap {

// Reads a whole file; errors name the path and the OS reason.
Result<std::string> read_file(const std::string& path);

// A whole file in one 64-byte-aligned, writable buffer that others may share (tensors alias
// it: the .bin reader's weight blobs). Files of 1 MiB and more get huge pages
// (core/huge_pages.h), so a 100 MB model costs one copy and a few dozen page faults instead of
// tens of thousands.
struct FileBytes {
  std::shared_ptr<std::byte[]> data;
  size_t size = 0;
  std::span<const std::byte> span() const { return {data.get(), size}; }
};
Result<FileBytes> read_file_bytes(const std::string& path);

// Writes `data` to `path` atomically (temp file + fsync + rename).
Status write_file_atomic(const std::string& path, std::string_view data);

}  // namespace qmap
