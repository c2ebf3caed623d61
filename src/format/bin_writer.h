// The .bin writer (docs/format.md): an IntProgram plus its BinMetadata serialized to the
// versioned, checksummed, 64-byte aligned container that bin_reader.h reads back.
//
// Deterministic: the same program and metadata give byte-identical files (no timestamps,
// attributes in key order, padding zeroed).
#pragma once

#include <string>

#include "core/status.h"
#include "program/bin_format.h"
#include "program/int_program.h"

namespace qmap {

// Errors: metadata inconsistent with the program (input specs not one per program input
// or named differently, a memory plan not one offset per tensor).
// Writes format binfmt::kFormatVersion.
Result<std::string> serialize_bin(const IntProgram& program, const BinMetadata& metadata);

// serialize_bin, then written to `path` atomically (temporary file + rename).
Status write_bin(const std::string& path, const IntProgram& program, const BinMetadata& metadata);

}  // namespace qmap
