// requantize_avx2 (kernels/requant_simd.h): requant.h over arrays, for its test.

#include "kernels/requant_simd.h"
#include "kernels/x86_avx2/requant.h"

namespace qmap::kernels {

void requantize_avx2(const int32_t* acc, const QMultiplier* q, size_t n, int32_t zp, int32_t lo, int32_t hi,
                     int32_t* out) {
  for (size_t i = 0; i < n; i += 8) {
    const size_t k = n - i < 8 ? n - i : 8;
    alignas(32) int32_t a[8] = {}, m[8], s[8], r[8];
    for (size_t j = 0; j < 8; ++j) {
      a[j] = j < k ? acc[i + j] : 0;
      m[j] = j < k ? q[i + j].m : 1 << 30;
      s[j] = j < k ? q[i + j].shift : 1;
    }
    const avx2::RequantLanes lanes{_mm256_load_si256(reinterpret_cast<const __m256i*>(m)),
                                   _mm256_load_si256(reinterpret_cast<const __m256i*>(s))};
    _mm256_store_si256(reinterpret_cast<__m256i*>(r),
                       avx2::requant8(_mm256_load_si256(reinterpret_cast<const __m256i*>(a)), lanes, zp, lo, hi));
    for (size_t j = 0; j < k; ++j) out[i + j] = r[j];
  }
}

}  // namespace qmap::kernels
