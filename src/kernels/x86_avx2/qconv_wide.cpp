// make_qconv_wide_avx2: the int16 convolution of x86_avx2/qconv_wide.h with vpmaddwd + vpaddd
// (4 channels x 16 pixels), what the avx2 and avxvnni levels run.
#include "kernels/x86_avx2/qconv_wide.h"

namespace qmap::kernels {

std::unique_ptr<QConvKernel> make_qconv_wide_avx2(const QConvParams& p) {
  if (!qconv_wide_int32_exact(p)) return nullptr;
  return std::make_unique<WideConvKernel<>>(p);
}

}  // namespace qmap::kernels
