// qelementwise_table (see qelementwise_table.h).
#include "kernels/qelementwise_table.h"

#if QMAP_HAVE_AVX2
#include "kernels/x86_avx2/qelementwise.h"
#include "kernels/x86_avx2/qpool.h"
#endif
#if QMAP_HAVE_AVX512VNNI
#include "kernels/x86_avx512vnni/qelementwise.h"
#endif

namespace qmap::kernels {

const QElementwiseTable& qelementwise_table(Isa isa) {
  static const QElementwiseTable kRef{"ref",    &ref::quantize, &ref::dequantize, &ref::qadd, &ref::qadd_q15,       &ref::qmul,
                                      &ref::lut8, &ref::qconcat, &ref::qmaxpool2d, &ref::qavgpool2d};
#if QMAP_HAVE_AVX2
  static const QElementwiseTable kAvx2{"avx2",     &avx2::quantize, &avx2::dequantize, &avx2::qadd, &avx2::qadd_q15,       &avx2::qmul,
                                       &avx2::lut8, &avx2::qconcat, &avx2::qmaxpool2d, &avx2::qavgpool2d};
#if QMAP_HAVE_AVX512VNNI
  // qadd / qmul are compute bound (64-bit lanes): AVX-512's; the rest are memory bound: AVX2's.
  static const QElementwiseTable kAvx512Vnni{"avx512vnni",   &avx2::quantize, &avx2::dequantize, &avx512::qadd, &avx512::qadd_q15,
                                             &avx512::qmul,  &avx2::lut8,     &avx2::qconcat,    &avx2::qmaxpool2d,
                                             &avx2::qavgpool2d};
  if (isa == Isa::kAvx512Vnni) return kAvx512Vnni;
#endif
#if QMAP_HAVE_AVXVNNI
  // No dot products here: AVX2's entries under the level's own name.
  static const QElementwiseTable kAvxVnni{"avxvnni",  &avx2::quantize, &avx2::dequantize, &avx2::qadd, &avx2::qadd_q15,       &avx2::qmul,
                                          &avx2::lut8, &avx2::qconcat, &avx2::qmaxpool2d, &avx2::qavgpool2d};
  if (isa == Isa::kAvxVnni) return kAvxVnni;
#endif
  if (isa != Isa::kRef) return kAvx2;
#endif
  return kRef;
}

const QElementwiseTable& qelementwise_table_int16(const QElementwiseTable& level) {
  const QElementwiseTable& ref_table = qelementwise_table(Isa::kRef);
#if QMAP_HAVE_AVX2
  static const QElementwiseTable kWide{"avx2", &ref::quantize, &ref::dequantize, &avx2::qadd_wide, &ref::qadd_q15,
                                       &ref::qmul, &ref::lut8,     &ref::qconcat,   &ref::qmaxpool2d, &ref::qavgpool2d};
  if (&level != &ref_table) return kWide;
#endif
  (void)level;
  return ref_table;
}

}  // namespace qmap::kernels
