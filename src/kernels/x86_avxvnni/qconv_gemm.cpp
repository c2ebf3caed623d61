// make_qconv_gemm_avxvnni: the general convolution of x86_avx2/qconv_gemm.h on u8 x s8 quads
// (AVX-VNNI's vpdpbusd, the zero point folded into the bias).
#include "kernels/x86_avx2/qconv_gemm.h"

#include "kernels/x86_avxvnni/dot.h"

namespace qmap::kernels {

std::unique_ptr<QConvKernel> make_qconv_gemm_avxvnni(const QConvParams& p) {
  return make_qconv_gemm<U8Quads<avxvnni::Dot>>(p, avxvnni::Dot::kIsa);
}

}  // namespace qmap::kernels
