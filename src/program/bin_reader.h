// The .bin reader (docs/format.md): turns untrusted bytes into an IntProgram and its
// BinMetadata, or a one-line error. It trusts nothing: magic, version, flags, declared size
// vs actual size, the checksum, every section and blob offset/size (overflow-safe), section
// and blob overlaps, enum codes, dims and element counts, and the dataflow between steps are
// checked here; each step's semantics (kind, op id, tensor indices, dtypes, geometry against
// element counts and blob sizes) by check_step (program/step_check.h), the validator the
// executor's prepare runs too. All before anything is returned, so the kernels that run the
// program can assume them.
//
// Errors read "bin '<name>': <where> at offset <N>: <value>: <rule>" (for a step's semantics
// "bin '<name>': STEPS at offset <N>: <kind> '<node>' (step <i>): <what> <value>: <rule>");
// each defect class has its own wording (tested in bin_format_test.cpp).
//
// Runtime code (the program layer): core/, ir/ types, the op registry and int_program.h.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "program/bin_format.h"
#include "program/int_program.h"

namespace qmap {

struct LoadedBin {
  uint32_t format_version = 0;
  IntProgram program;
  BinMetadata metadata;  // metadata.inputs has one spec per program input
  std::vector<StepPlacement> placement;  // per step, as stored (and checked against the rule)
};

// `name` labels the file in errors (usually its path). When `owner` owns `bytes` (a
// 64-byte-aligned buffer), the weight blobs alias it instead of being copied, and keep it
// alive; otherwise they are copies and `bytes` may go away after the call.
Result<LoadedBin> read_bin(std::span<const std::byte> bytes, const std::string& name,
                           std::shared_ptr<std::byte[]> owner = nullptr);

// read_file_bytes + read_bin, the blobs aliasing the file's buffer.
Result<LoadedBin> read_bin_file(const std::string& path);

}  // namespace qmap
