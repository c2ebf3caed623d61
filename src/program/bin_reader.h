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
  // Per step, check_step's verdict that the step's declared outputs are what its inputs fix
  // (the reader ran the validator; the runtime's prepare takes this instead of running it again).
  std::vector<bool> outputs_fixed;
};

struct BinReadOptions {
  // Check the payload checksum too (v6: BLOBS, the weights, tables and constants). The
  // structure checksum (everything else) is always checked, and every field and blob bound;
  // hashing the payload is a pass over every weight byte (1.5 ms for ResNet-50's 26 MB, more
  // than all the rest of a load), which the runtime's load skips unless asked
  // (LoadOptions::check_weights). v4 and v5 files have one checksum, always checked.
  bool check_payload = true;
};

// `name` labels the file in errors (usually its path). When `owner` owns `bytes` (a
// 64-byte-aligned buffer), the weight blobs alias it instead of being copied, and keep it
// alive; otherwise they are copies and `bytes` may go away after the call.
Result<LoadedBin> read_bin(std::span<const std::byte> bytes, const std::string& name,
                           std::shared_ptr<std::byte[]> owner = nullptr, BinReadOptions options = {});

// read_file_bytes + read_bin, the blobs aliasing the file's buffer.
Result<LoadedBin> read_bin_file(const std::string& path);

}  // namespace qmap
