// make_qconv_gemm_avx2: the general convolution of x86_avx2/qconv_gemm.h on int16 pairs
// (vpmaddwd + vpaddd).
#include "kernels/x86_avx2/qconv_gemm.h"

#include "kernels/x86_avx2/dot.h"

namespace qmap::kernels {

std::unique_ptr<QConvKernel> make_qconv_gemm_avx2(const QConvParams& p) {
  return make_qconv_gemm<Int16Pairs<avx2::Dot>>(p, avx2::Dot::kIsa);
}

}  // namespace qmap::kernels
