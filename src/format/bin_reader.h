// The .bin reader (docs/format.md): turns untrusted bytes into an IntProgram and its
// BinMetadata, or a one-line error. It trusts nothing: magic, version, flags, declared size
// vs actual size, the checksum, every section and blob offset/size (overflow-safe), section
// and blob overlaps, enum codes, op ids (ops/registry.h), tensor indices, dims and element
// counts, and blob sizes against the step geometry they feed are all checked before anything
// is returned, so the kernels that run the program can assume them.
//
// Errors read "bin '<name>': <where> at offset <N>: <value>: <rule>"; each defect class has
// its own wording (tested in bin_format_test.cpp).
//
// Runtime-capable: core/, ir/ types, the op registry and int_program.h structs only.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "format/bin_format.h"
#include "quant/int_program.h"

namespace qmap {

struct LoadedBin {
  uint32_t format_version = 0;
  IntProgram program;
  BinMetadata metadata;  // metadata.inputs has one spec per program input
  std::vector<StepPlacement> placement;  // per step, as stored (and checked against the rule)
};

// `name` labels the file in errors (usually its path).
Result<LoadedBin> read_bin(std::span<const std::byte> bytes, const std::string& name);

// read_file + read_bin.
Result<LoadedBin> read_bin_file(const std::string& path);

}  // namespace qmap
