// AVX2 integer elementwise and data-conversion kernels: the same signatures and bit-exact
// results as kernels/ref/qelementwise.h (quantize, dequantize, qadd, qadd_q15, qmul, lut8, qconcat).
// Each call dispatches once on the int8/uint8 combination to a template instance; qadd runs
// in int32 lanes of 16-bit digit products where plan::qadd_digits holds, qadd_q15 in int32
// lanes of one 16-bit multiply-add per element (plan::q15_lanes), and
// params the 64-bit lanes cannot hold exactly either (huge zero points, very different qadd
// shifts) run the scalar core functions instead. Declarations only: callable from code built without
// AVX2 flags, on a CPU that has AVX2 (kernels::host_isas()).
#pragma once

#include <cstdint>
#include <span>

#include "core/fixed_point.h"
#include "kernels/isa.h"
#include "kernels/ref/q8.h"
#include "kernels/ref/qelementwise.h"

namespace qmap::kernels::avx2 {

void quantize(std::span<const float> x, float scale, int32_t zp, ref::Q8Out y);
void dequantize(ref::Q8In x, int64_t count, float scale, int32_t zp, float* y);

void qadd(const ref::BinaryGeometry& g, ref::Q8In a, int32_t za, QMultiplier ra, ref::Q8In b, int32_t zb,
          QMultiplier rb, int32_t zy, int32_t lo, int32_t hi, ref::Q8Out y);
void qadd_q15(const ref::BinaryGeometry& g, ref::Q8In a, int32_t za, ref::Q8In b, int32_t zb, const AddQ15& f,
              int32_t zy, int32_t lo, int32_t hi, ref::Q8Out y);
void qmul(const ref::BinaryGeometry& g, ref::Q8In a, int32_t za, ref::Q8In b, int32_t zb, QMultiplier r,
          int32_t zy, int32_t lo, int32_t hi, ref::Q8Out y);
// ref::qadd when an operand or the output is int16 (x86_avx2/qadd_wide.cpp): int64 lanes for
// dense operands whose shifts differ by at most 14, the reference otherwise.
void qadd_wide(const ref::BinaryGeometry& g, ref::Q8In a, int32_t za, QMultiplier ra, ref::Q8In b, int32_t zb,
               QMultiplier rb, int32_t zy, int32_t lo, int32_t hi, ref::Q8Out y);

void lut8(ref::Q8In x, int64_t count, std::span<const uint8_t> table, ref::Q8Out y);

void qconcat(std::span<const ref::ConcatInput> inputs, int64_t outer, int32_t zy, ref::Q8Out y);

}  // namespace qmap::kernels::avx2
