// make_qconv_dw_avxvnni: the depthwise kernel of x86_avx2/qconv_dw.h with AVX-VNNI's
// vpdpwssd in place of vpmaddwd + vpaddd (the same int32 sums).
#include "kernels/x86_avx2/qconv_dw.h"

#include "kernels/x86_avxvnni/dot.h"

namespace qmap::kernels {

std::unique_ptr<QConvKernel> make_qconv_dw_avxvnni(const QConvParams& p) { return make_qconv_dw<avxvnni::Dot>(p); }

}  // namespace qmap::kernels
