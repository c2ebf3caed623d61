// The multiply-accumulate primitives of the AVX-VNNI level (VEX-encoded VNNI on 256-bit
// vectors: Alder Lake and later Intel cores, Zen 5), the Dot interface of x86_avx2/dot.h with
// one more primitive. Include only from files compiled with this folder's flags (-mavx2
// -mfma -mavxvnni); the isa_isolation test checks that no function outside namespace
// qmap::kernels::avxvnni's instances holds a VEX-encoded vpdp* instruction.
//
//   madd16(acc, a, b)  vpdpwssd: the pair sums of vpmaddwd added in one instruction, the same
//                      int32 results (the non-saturating form: the add is modular as vpaddd).
//   dpbusd(acc, u, s)  vpdpbusd: acc + sum of 4 u8 x s8 products per int32 lane (products and
//                      the quad sum exact, the add modular), twice vpmaddwd's products per
//                      instruction.
#pragma once

#include <immintrin.h>

namespace qmap::kernels::avxvnni {

struct Dot {
  static constexpr int kTag = 3;
  static constexpr const char* kIsa = "avxvnni";
  __attribute__((always_inline)) static __m256i madd16(__m256i acc, __m256i a, __m256i b) {
    return _mm256_dpwssd_avx_epi32(acc, a, b);
  }
  __attribute__((always_inline)) static __m256i dpbusd(__m256i acc, __m256i u, __m256i s) {
    return _mm256_dpbusd_avx_epi32(acc, u, s);
  }
};

}  // namespace qmap::kernels::avxvnni
