// make_qconv_dw_avx2: the depthwise kernel of x86_avx2/qconv_dw.h with vpmaddwd + vpaddd.
#include "kernels/x86_avx2/qconv_dw.h"

#include "kernels/x86_avx2/dot.h"

namespace qmap::kernels {

std::unique_ptr<QConvKernel> make_qconv_dw_avx2(const QConvParams& p) { return make_qconv_dw<avx2::Dot>(p); }

}  // namespace qmap::kernels
