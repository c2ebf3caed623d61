// requantize_avx512vnni (kernels/requant_simd.h): requant.h over arrays, for its test.

#include "kernels/requant_simd.h"
#include "kernels/x86_avx512vnni/requant.h"

namespace qmap::kernels {

void requantize_avx512vnni(const int32_t* acc, const QMultiplier* q, size_t n, int32_t zp, int32_t lo, int32_t hi,
                           int32_t* out) {
  for (size_t i = 0; i < n; i += 16) {
    const size_t k = n - i < 16 ? n - i : 16;
    const __mmask16 mask = static_cast<__mmask16>((1u << k) - 1);
    alignas(64) int32_t m[16], s[16];
    for (size_t j = 0; j < 16; ++j) {
      m[j] = j < k ? q[i + j].m : 1 << 30;
      s[j] = j < k ? q[i + j].shift : 1;
    }
    const avx512::RequantLanes lanes = avx512::requant_lanes(_mm512_load_si512(m), _mm512_load_si512(s));
    const __m512i r = avx512::requant16(_mm512_maskz_loadu_epi32(mask, acc + i), lanes, zp, lo, hi);
    _mm512_mask_storeu_epi32(out + i, mask, r);
  }
}

}  // namespace qmap::kernels
