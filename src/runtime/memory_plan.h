// The runtime's memory plan: every intermediate tensor of an IntProgram gets a byte offset in
// one arena, chosen offline from the tensors' lifetimes so that tensors alive at the same time
// never overlap and tensors that are not share memory.
//
// Storage classes: constants stay in the (immutable, shared) program; graph inputs and
// graph outputs get their own buffers per context (the caller fills and reads them while the
// arena is reused); everything a step writes lives in the arena.
//
// The plan is a pure function of the program (deterministic: same program, same offsets),
// computed at load; a .bin may store it (MEMORY PLAN section) and then it is checked with
// check_memory_plan instead of trusted.
#pragma once

#include <cstdint>
#include <vector>

#include "core/status.h"
#include "program/int_program.h"

namespace qmap::rt {

// Every arena offset and slot size is a multiple of this (bytes): a cache line, and the
// alignment SIMD kernels want.
inline constexpr int64_t kArenaAlignment = 64;

enum class Storage : uint8_t {
  kUnused,    // never written nor read (e.g. an omitted optional output)
  kConstant,  // ProgramTensor::constant
  kInput,     // a graph input (own buffer per context)
  kOutput,    // a graph output that is not an input (own buffer per context)
  kArena,     // written by a step: lives in the arena at `offset`
};

struct MemoryPlan {
  std::vector<Storage> storage;     // per tensor
  std::vector<int64_t> offset;      // per tensor: arena byte offset (kArena), else -1
  std::vector<int64_t> bytes;       // per tensor: size in bytes (elements * dtype size)
  std::vector<int32_t> first_step;  // per tensor: the step writing it (-1: none)
  std::vector<int32_t> last_step;   // per tensor: the last step reading it (first_step if none)
  // Per tensor: the input whose arena slot this step output takes (in place), else -1. A
  // step's output is in place when its kind allows it (StepRunDef::in_place), every input has
  // its dims (no broadcasting), and an input is an arena tensor of its element size whose last
  // reader is the step: the first such input in the step's order.
  std::vector<int32_t> in_place_of;
  int64_t arena_bytes = 0;          // a multiple of kArenaAlignment
};

// Checks the program's tensor/step wiring the plan relies on (indices in range, every tensor
// written at most once and before it is read, dims non-negative, sizes without overflow) and
// computes the plan: an in-place output takes its input's offset (a chain of them is placed
// as one tensor alive over the union of their lifetimes); the arena tensors (chains) sorted by
// size (largest first; ties by first step, then index), each placed at the lowest-waste gap
// (best fit) between the tensors already placed whose lifetimes [first_step, last_step]
// overlap its own, or after them all.
Result<MemoryPlan> plan_memory(const IntProgram& p);

// A plan where no two arena tensors share memory (each its own slot, in index order): for
// dumps that keep every intermediate value (the simulator's keep_all_values, verify
// --all-nodes). Same storage classes and lifetimes as `planned`.
MemoryPlan plan_without_reuse(const MemoryPlan& planned);

// A plan as a file stores it: the arena size and per tensor its offset (-1 outside the arena).
struct StoredMemoryPlan {
  int64_t arena_bytes = 0;
  std::vector<int64_t> offsets;
};

// The stored plan completed with storage classes, sizes and lifetimes, after
// check_memory_plan: a plan from a file is checked, not trusted.
Result<MemoryPlan> adopt_memory_plan(const IntProgram& p, const StoredMemoryPlan& stored);

// Checks a plan read from a file against the program: sizes and storage classes as
// plan_memory computes them, aligned offsets inside the arena, and no two arena tensors with
// overlapping lifetimes overlapping in memory, except an in-place output (in_place_of) at
// exactly its input's offset. Errors name the tensors.
Status check_memory_plan(const IntProgram& p, const MemoryPlan& plan);

}  // namespace qmap::rt
