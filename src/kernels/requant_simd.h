// Entry points to each ISA's vectorized requantization (x86_*/requant.h), compiled in that
// ISA's folder, so baseline code (the tests) can check them against core/fixed_point.h. Call
// one only when host_isas() lists its ISA.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/fixed_point.h"
#include "kernels/isa.h"

namespace qmap::kernels {

// out[i] = requantize(acc[i], q[i], zp, lo, hi), per-element multipliers (requantize_avx2:
// groups of 8 sharing one multiplier take the convolutions' per-channel path,
// avx2::ChannelRequant, whose fast form serves shifts 32..53).
void requantize_avx512vnni(const int32_t* acc, const QMultiplier* q, size_t n, int32_t zp, int32_t lo, int32_t hi,
                           int32_t* out);
void requantize_avx2(const int32_t* acc, const QMultiplier* q, size_t n, int32_t zp, int32_t lo, int32_t hi,
                     int32_t* out);

}  // namespace qmap::kernels
