// ISA-neutral helpers of the convolution kernel seam (qconv_kernel_internal.h).
#include <algorithm>
#include <cstdlib>

#include "kernels/qconv_kernel_internal.h"

namespace qmap::kernels {

bool qconv_int32_exact(const QConvParams& p) {
  int64_t max_bias = 0;
  for (int32_t b : p.bias) max_bias = std::max<int64_t>(max_bias, b < 0 ? -int64_t{b} : b);
  const int64_t taps = p.g.c / p.g.group * p.g.kh * p.g.kw;
  return max_bias + taps * 255 * 128 < (int64_t{1} << 31);
}

}  // namespace qmap::kernels
