// make_qconv_avx512vnni: depthwise first, then the general kernel (qconv_kernel_internal.h).
#include "kernels/qconv_kernel_internal.h"

namespace qmap::kernels {

std::unique_ptr<QConvKernel> make_qconv_avx512vnni(const QConvParams& p) {
  return make_qconv_level<make_qconv_dw_avx512vnni, make_qconv_gemm_avx512vnni>(p);
}

}  // namespace qmap::kernels
