// The multiply-accumulate primitives of the AVX2 level, as the Dot parameter of the 256-bit
// kernel templates (x86_avx2/qconv_gemm.h, x86_avx2/qconv_dw.h). x86_avxvnni/dot.h is the
// same interface with AVX-VNNI's instructions. Include only from files compiled with this
// folder's flags.
//
// A Dot has:
//   kTag   the IsaVector tag of the files that use it (kernels/isa_vector.h says why each
//          ISA folder has its own);
//   kIsa   the level's name in kernel names ("qu8_conv_gemm__avx2_6x16");
//   madd16(acc, a, b)  acc + (a[2i] * b[2i] + a[2i+1] * b[2i+1]) per int32 lane i, int16
//          operands, products and pair sums exact, the add modular (vpmaddwd + vpaddd).
// AVX2 has no exact u8 x s8 quad product (vpmaddubsw saturates its int16 pair sums), so this
// Dot has no dpbusd and the GEMM runs on int16 pairs (Int16Pairs in qconv_gemm.h).
#pragma once

#include <immintrin.h>

namespace qmap::kernels::avx2 {

struct Dot {
  static constexpr int kTag = 2;
  static constexpr const char* kIsa = "avx2";
  __attribute__((always_inline)) static __m256i madd16(__m256i acc, __m256i a, __m256i b) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(a, b));
  }
};

}  // namespace qmap::kernels::avx2
