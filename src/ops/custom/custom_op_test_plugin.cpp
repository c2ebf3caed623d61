// Plugins for the custom-op tests (custom_op_test.cpp), one source built into several libraries
// (src/ops/custom/CMakeLists.txt of the tests) that each show one way a plugin can be wrong:
//   default                       qmap.test.FailShape (its infer always fails) and
//                                 qmap.test.Clamp1000 (y = x; its kernel fails on |x| > 1000) and
//                                 qmap.test.Throw1000 (the same, but its kernel throws)
//   QMAP_TEST_PLUGIN_NO_ENTRY     no qmap_register_custom_ops: not a qmap plugin
//   QMAP_TEST_PLUGIN_ABI=<v>      declares its ops with another custom-op ABI version
//   QMAP_TEST_PLUGIN_DUP          claims qmap.example.Normalize, which the example plugin defines
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "qmap/custom_op.h"

#ifndef QMAP_TEST_PLUGIN_ABI
#define QMAP_TEST_PLUGIN_ABI QMAP_CUSTOM_OP_ABI_VERSION
#endif

namespace {

int same_shape(const QmapCustomOpAttr*, int32_t, const QmapCustomOpShape* in, int32_t, QmapCustomOpShape* out,
               int32_t, char*, size_t) {
  out[0] = in[0];
  return 0;
}

int refuse_shape(const QmapCustomOpAttr*, int32_t, const QmapCustomOpShape*, int32_t, QmapCustomOpShape*, int32_t,
                 char* error, size_t size) {
  std::snprintf(error, size, "FailShape refuses every input shape");
  return 1;
}

int64_t elements(const QmapCustomOpShape& s) {
  int64_t n = 1;
  for (int k = 0; k < s.rank; ++k) n *= s.dims[k];
  return n;
}

int copy_below_1000(const QmapCustomOpAttr*, int32_t, const QmapCustomOpTensor* in, int32_t, QmapCustomOpTensor* out,
                    int32_t, char* error, size_t size) {
  const float* x = static_cast<const float*>(in[0].data);
  float* y = static_cast<float*>(out[0].data);
  for (int64_t i = 0, n = elements(in[0].shape); i < n; ++i) {
    if (!(std::fabs(x[i]) <= 1000.f)) {
      std::snprintf(error, size, "element %lld is %g: Clamp1000 takes |x| <= 1000", static_cast<long long>(i), x[i]);
      return 1;
    }
    y[i] = x[i];
  }
  return 0;
}

// A C++ plugin that throws instead of returning its error: qmap must contain it.
int copy_or_throw(const QmapCustomOpAttr* a, int32_t na, const QmapCustomOpTensor* in, int32_t ni,
                  QmapCustomOpTensor* out, int32_t no, char* error, size_t size) {
  if (copy_below_1000(a, na, in, ni, out, no, error, size) != 0) throw std::runtime_error("Throw1000: |x| > 1000");
  return 0;
}

const QmapCustomOpDef kFailShape = {QMAP_TEST_PLUGIN_ABI, sizeof(QmapCustomOpDef), "qmap.test", "FailShape", 1,
                                    "infer always fails", 1, 1, 1, nullptr, 0, refuse_shape, copy_below_1000};
const QmapCustomOpDef kClamp = {QMAP_TEST_PLUGIN_ABI, sizeof(QmapCustomOpDef), "qmap.test", "Clamp1000", 1,
                                "y = x, refusing |x| > 1000 at run time", 1, 1, 1, nullptr, 0, same_shape,
                                copy_below_1000};
const QmapCustomOpDef kThrow = {QMAP_TEST_PLUGIN_ABI, sizeof(QmapCustomOpDef), "qmap.test", "Throw1000", 1,
                                "y = x, throwing on |x| > 1000 at run time", 1, 1, 1, nullptr, 0, same_shape,
                                copy_or_throw};
const QmapCustomOpDef kNormalizeClaim = {QMAP_TEST_PLUGIN_ABI, sizeof(QmapCustomOpDef), "qmap.example", "Normalize",
                                         1, "claims the example's op", 2, 2, 1, nullptr, 0, same_shape,
                                         copy_below_1000};

}  // namespace

#ifdef QMAP_TEST_PLUGIN_NO_ENTRY
extern "C" QMAP_CUSTOM_OP_EXPORT int qmap_not_the_entry_point(void) { return 0; }
#else
extern "C" QMAP_CUSTOM_OP_EXPORT int qmap_register_custom_ops(QmapCustomOpRegistry* r) {
#ifdef QMAP_TEST_PLUGIN_DUP
  return r->add_op(r, &kNormalizeClaim);
#else
  (void)kNormalizeClaim;
  if (r->add_op(r, &kFailShape) != 0) return 1;
  if (r->add_op(r, &kThrow) != 0) return 1;
  return r->add_op(r, &kClamp);
#endif
}
#endif
