// AVX2 integer pooling kernels: the same signatures and bit-exact results as
// kernels/ref/qpool.h. NCHW planes are pooled a row at a time: the window's rows are reduced
// vertically with byte max / int32 adds, then the columns per stride phase; the global
// average pool sums each plane with psadbw. Declarations only (see qelementwise.h).
#pragma once

#include <cstdint>
#include <span>

#include "core/fixed_point.h"
#include "kernels/isa.h"
#include "kernels/ref/q8.h"
#include "kernels/ref/qpool.h"

namespace qmap::kernels::avx2 {

void qmaxpool2d(const ref::PoolGeometry2d& g, ref::Q8In x, ref::Q8Out y);

void qavgpool2d(const ref::PoolGeometry2d& g, bool count_include_pad, ref::Q8In x, int32_t zx,
                std::span<const QMultiplier> mult, int32_t zy, int32_t lo, int32_t hi, ref::Q8Out y);

}  // namespace qmap::kernels::avx2
