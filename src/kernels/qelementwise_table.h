// The non-convolution integer kernels of one ISA as a table of function pointers, chosen once
// when a program is prepared (runtime/executor.cpp). The entries have the reference's
// signatures and semantics (kernels/ref/qelementwise.h, qpool.h) and are bit-exact with it;
// memory-bound ops need no more than AVX2, so the AVX-512 level uses the AVX2 entries except
// for qadd / qmul (compute bound: kernels/x86_avx512vnni/qelementwise.h), and
// the AVX-VNNI level (which adds only dot products) uses them all.
#pragma once

#include "kernels/isa.h"
#include "kernels/ref/qelementwise.h"
#include "kernels/ref/qpool.h"

namespace qmap::kernels {

struct QElementwiseTable {
  const char* isa;  // "ref", "avx2", "avxvnni" or "avx512vnni" (the level; see the entries for their folders)
  decltype(&ref::quantize) quantize;
  decltype(&ref::dequantize) dequantize;
  decltype(&ref::qadd) qadd;
  decltype(&ref::qadd_q15) qadd_q15;
  decltype(&ref::qmul) qmul;
  decltype(&ref::lut8) lut8;
  decltype(&ref::qconcat) qconcat;
  decltype(&ref::qmaxpool2d) qmaxpool2d;
  decltype(&ref::qavgpool2d) qavgpool2d;
};

const QElementwiseTable& qelementwise_table(Isa isa);

// The entries for steps with an int16 tensor (the higher-precision form): the reference's,
// with the exact add on int64 lanes (avx2::qadd_wide) when `level` is an x86 level's table.
const QElementwiseTable& qelementwise_table_int16(const QElementwiseTable& level);

}  // namespace qmap::kernels
