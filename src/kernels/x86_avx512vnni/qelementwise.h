// AVX-512 integer elementwise kernels: qadd, qadd_q15 and qmul with the same signatures and bit-exact
// results as kernels/ref/qelementwise.h (the other elementwise entries of the AVX-512 level
// are the AVX2 ones: they are memory bound). Each call dispatches once on the int8/uint8
// combination to a template instance; qadd runs in int32 lanes of 16-bit digit products where
// plan::qadd_digits holds, else (like qmul) in 64-bit lanes; qadd_q15 in int32 lanes of one
// 16-bit multiply-add per element (plan::q15_lanes); params none of these can hold exactly
// run the scalar core functions (kernels/qelementwise_plan.h). Declarations only: callable from code
// built without AVX-512 flags, on a CPU that has AVX-512 (kernels::host_isas()).
#pragma once

#include <cstdint>

#include "core/fixed_point.h"
#include "kernels/isa.h"
#include "kernels/ref/q8.h"
#include "kernels/ref/qelementwise.h"

namespace qmap::kernels::avx512 {

void qadd(const ref::BinaryGeometry& g, ref::Q8In a, int32_t za, QMultiplier ra, ref::Q8In b, int32_t zb,
          QMultiplier rb, int32_t zy, int32_t lo, int32_t hi, ref::Q8Out y);
void qadd_q15(const ref::BinaryGeometry& g, ref::Q8In a, int32_t za, ref::Q8In b, int32_t zb, const AddQ15& f,
              int32_t zy, int32_t lo, int32_t hi, ref::Q8Out y);
void qmul(const ref::BinaryGeometry& g, ref::Q8In a, int32_t za, ref::Q8In b, int32_t zb, QMultiplier r,
          int32_t zy, int32_t lo, int32_t hi, ref::Q8Out y);

}  // namespace qmap::kernels::avx512
