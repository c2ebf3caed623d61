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
// The file mapped read-only (mmap, MAP_PRIVATE), unmapped with its last owner; page-aligned.
// Pages are read when first touched. The file must not change while mapped (a truncation
// faults readers of the lost pages). Reads a copy instead (read_file_bytes) when the file
// cannot be mapped (a pipe, an empty file, a file system without mmap).
Result<FileBytes> map_file_bytes(const std::string& path);

// Writes `data` to `path` atomically: to `<path>.tmp.<pid>` in the same folder, fsync, rename
// over `path`, fsync the folder. A crash or SIGKILL at any moment leaves `path` absent, or
// as it was, or complete; never partial. The temporary file is removed on every error path
// and by the interrupt handler below; only a SIGKILL (or power loss) can leave one behind,
// and remove_stale_temp_files removes those on the next run.
Status write_file_atomic(const std::string& path, std::string_view data);

// Removes the `<name>.tmp.<pid>` files write_file_atomic left in `dir` when the process
// <pid> no longer runs (killed mid-write). Files of live processes are kept. Returns the
// names removed.
std::vector<std::string> remove_stale_temp_files(const std::string& dir);

// Installs SIGINT and SIGTERM handlers for a command that writes outputs: on the signal,
// every temporary file write_file_atomic has open is removed, `message` is printed to stderr
// as one line "ERROR <message>", and the process exits with 128 + the signal number
// (130 for SIGINT, as a shell reports it). Finished outputs stay complete. Async-signal-
// safe: the handler only calls unlink, write and _exit. `message` must outlive the process
// (a string literal).
void install_interrupt_cleanup(const char* message);

}  // namespace qmap
