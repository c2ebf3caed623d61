// make_qconv_avxvnni: depthwise first, then the general kernel (qconv_kernel_internal.h).
#include "kernels/qconv_kernel_internal.h"

namespace qmap::kernels {

std::unique_ptr<QConvKernel> make_qconv_avxvnni(const QConvParams& p) {
  return make_qconv_level<make_qconv_dw_avxvnni, make_qconv_gemm_avxvnni>(p);
}

}  // namespace qmap::kernels
