// make_qconv_avxvnni: depthwise first, then the general kernel (qconv_kernel_internal.h).
#include "kernels/qconv_kernel_internal.h"

namespace qmap::kernels {

std::unique_ptr<QConvKernel> make_qconv_avxvnni(const QConvParams& p) {
  if (!qconv_int32_exact(p)) return nullptr;
  if (auto k = make_qconv_dw_avxvnni(p)) return k;
  return make_qconv_gemm_avxvnni(p);
}

}  // namespace qmap::kernels
