// make_qconv: the convolution factory of an ISA level (qconv_kernel.h), compiled without ISA
// flags; the levels this build compiled are the QMAP_HAVE_* definitions of qmap_kernels.
#include "kernels/qconv_kernel.h"

namespace qmap::kernels {

std::unique_ptr<QConvKernel> make_qconv(Isa isa, const QConvParams& p) {
  switch (isa) {
    case Isa::kRef: return nullptr;
    case Isa::kAvx2:
#if QMAP_HAVE_AVX2
      return make_qconv_avx2(p);
#else
      return nullptr;
#endif
    case Isa::kAvxVnni:
#if QMAP_HAVE_AVXVNNI
      return make_qconv_avxvnni(p);
#else
      return nullptr;
#endif
    case Isa::kAvx512Vnni:
#if QMAP_HAVE_AVX512VNNI
      return make_qconv_avx512vnni(p);
#else
      return nullptr;
#endif
  }
  return nullptr;
}

}  // namespace qmap::kernels
