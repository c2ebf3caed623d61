// Packed weights for a .bin (docs/format.md, PACKED): what a fast convolution kernel of one
// ISA builds at load (weights in its own layout, each output channel's weight sum), made once
// by `qmap makertbin` so that a load on that ISA adopts it instead of packing.
#pragma once

#include <vector>

#include "kernels/isa.h"
#include "program/int_program.h"

namespace qmap::rt {

// The packed weights of every convolution step of `p` that `isa`'s kernels run fast and pack
// (not the reference, not depthwise kernels, which pack nothing costly). `isa` must be one this
// CPU has: its kernels are built to pack. Steps must have passed check_step.
std::vector<PackedWeights> prepack_conv_weights(const IntProgram& p, kernels::Isa isa);

// Whether the layout of a stored blob belongs to `isa` ("<isa>.<path>...").
bool packed_for(const PackedWeights& pw, kernels::Isa isa);
// The stored blob of `p` for step `step` whose layout belongs to `isa`, or nullptr.
const PackedWeights* find_packed_weights(const IntProgram& p, size_t step, kernels::Isa isa);

}  // namespace qmap::rt
