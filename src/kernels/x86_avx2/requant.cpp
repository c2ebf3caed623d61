// requantize_avx2 (kernels/requant_simd.h): requant.h over arrays, for its test. A group of 8
// with one multiplier goes through ChannelRequant (the convolutions' per-channel path, the
// fast one for shifts in [32, 53]), others through requant8's per-lane multipliers.

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
    bool uniform = k == 8;
    for (size_t j = 1; j < k; ++j) uniform = uniform && m[j] == m[0] && s[j] == s[0];
    const __m256i av = _mm256_load_si256(reinterpret_cast<const __m256i*>(a));
    if (uniform) {
      _mm256_store_si256(reinterpret_cast<__m256i*>(r), avx2::ChannelRequant(q[i], zp, lo, hi)(av));
    } else {
      const avx2::RequantLanes lanes{_mm256_load_si256(reinterpret_cast<const __m256i*>(m)),
                                     _mm256_load_si256(reinterpret_cast<const __m256i*>(s))};
      _mm256_store_si256(reinterpret_cast<__m256i*>(r), avx2::requant8(av, lanes, zp, lo, hi));
    }
    for (size_t j = 0; j < k; ++j) out[i + j] = r[j];
  }
}

}  // namespace qmap::kernels
