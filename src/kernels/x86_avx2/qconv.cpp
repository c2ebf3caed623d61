// make_qconv_avx2: depthwise first, then the general kernel (qconv_kernel_internal.h).
#include "kernels/qconv_kernel_internal.h"

namespace qmap::kernels {

std::unique_ptr<QConvKernel> make_qconv_avx2(const QConvParams& p) {
  return make_qconv_level<make_qconv_dw_avx2, make_qconv_gemm_avx2>(p);
}

}  // namespace qmap::kernels
