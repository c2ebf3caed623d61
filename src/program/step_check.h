// check_step: the one validator of an IntProgram step, run before any kernel sees it. The
// executor's prepare (runtime/executor.h) calls it for every step of every program it runs
// (lowered in memory or read from a .bin); the .bin reader (program/bin_reader.h) calls it too,
// right after parsing each step, so that read_bin's result can be trusted without a prepare
// (qmap info) and errors name the file offset.
//
// What it checks is what the kernels assume (docs/format.md §5): the step's tensor indices,
// arity, dtypes and quantization (zero point inside the type's range, scale positive and
// finite), its geometry (sizes, strides, dilations >= 1, pads >= 0, a convolution's pads,
// strides and dilations <= kMaxConvWindowParam, every product checked for int64 overflow)
// against the element counts of the tensors it reads and writes, the blob sizes the geometry
// implies (weights, bias, multipliers, accumulator scales, table, concat blocks),
// the multipliers the kernel uses (m in [2^30, 2^31), shift in [kMinShift, kMaxShift]), the
// output clamp, broadcast strides that stay inside their operands, the step kind, and an op id
// of the registry (every kind). It does not check the dataflow between steps (read before written,
// one producer per tensor): the reader and the memory planner do.
//
// What every kind shares is checked here; each kind's own part is its family's check hook
// (check_<kind>, src/steps/<folder>/<folder>_check.cpp, written with program/step_checker.h).
//
// Errors read "<kind> '<node>' (step <i>): <what> <value>: <rule>"; callers prefix their stage
// ("runtime: ", "bin '<file>': STEPS at offset <n>: ").
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/status.h"
#include "program/int_program.h"

namespace qmap {

// The largest pad, stride or dilation a convolution step may hold (docs/format.md §5).
inline constexpr int64_t kMaxConvWindowParam = 65535;

// outputs_fixed (optional): set to whether a move or float step's outputs are fixed by its
// declared inputs, i.e. the inference that compared them gave every output's dtype and dims
// from the inputs' types, dims and constant values, one per declared output, none omitted.
// Such a step may run without shape inference (eval_node_checked): its tensors never change.
Status check_step(const IntProgram& p, size_t step, bool* outputs_fixed = nullptr);

}  // namespace qmap
