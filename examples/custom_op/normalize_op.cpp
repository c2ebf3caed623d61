// An example qmap custom-op plugin: Caffe/SSD's Normalize layer (L2 normalization with a
// learned scale), which no standard ONNX opset has in this form (ONNX's LpNormalization has no
// scale, no eps and no across-spatial mode).
//
//   y = x / sqrt(sum(x^2) + eps) * scale
//
// sum over the channels at each spatial position (across_spatial = 0, SSD's conv4_3_norm) or
// over channels and positions of each batch item (across_spatial = 1, Caffe's default); scale
// is one value (channel_shared = 1, Caffe's default) or one per channel. Inputs: X (N x C x
// ...), scale (the layer's blob). Attributes and defaults are Caffe's NormalizeParameter's, so
// a Caffe layer and an ONNX node mean the same.
//
// Built as libqmap_normalize.so from this file and include/qmap/custom_op.h alone: the plugin
// links nothing of qmap (docs/custom-op.md).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <vector>

#include "qmap/custom_op.h"

namespace {

struct Params {
  bool across_spatial = true;
  bool channel_shared = true;
  float eps = 1e-10f;
};

// Writes a message into qmap's buffer and returns the error code.
int fail(char* error, size_t size, const char* msg) {
  std::snprintf(error, size, "%s", msg);
  return 1;
}

int read_params(const QmapCustomOpAttr* attrs, int32_t n, Params* p, char* error, size_t size) {
  if (const QmapCustomOpAttr* a = qmap_custom_op_attr(attrs, n, "across_spatial")) p->across_spatial = a->i != 0;
  if (const QmapCustomOpAttr* a = qmap_custom_op_attr(attrs, n, "channel_shared")) p->channel_shared = a->i != 0;
  if (const QmapCustomOpAttr* a = qmap_custom_op_attr(attrs, n, "eps")) p->eps = a->f;
  if (!(p->eps >= 0.f) || !std::isfinite(p->eps)) return fail(error, size, "attribute eps must be finite and >= 0");
  return 0;
}

int64_t count(const QmapCustomOpShape& s, int from = 0) {
  int64_t c = 1;
  for (int k = from; k < s.rank; ++k) c *= s.dims[k];
  return c;
}

// qmap calls infer and compute with 2 inputs and 1 output: the counts the definition declares.
int infer(const QmapCustomOpAttr* attrs, int32_t num_attrs, const QmapCustomOpShape* in, int32_t /*num_in*/,
          QmapCustomOpShape* out, int32_t /*num_out*/, char* error, size_t size) {
  Params p;
  if (read_params(attrs, num_attrs, &p, error, size) != 0) return 1;
  const QmapCustomOpShape& x = in[0];
  if (x.rank < 2) {
    std::snprintf(error, size, "input X has rank %d: Normalize needs N x C x ...", static_cast<int>(x.rank));
    return 1;
  }
  const int64_t channels = x.dims[1];
  const int64_t want = p.channel_shared ? 1 : channels;
  if (count(in[1]) != want) {
    std::snprintf(error, size, "scale has %lld values: %s needs %lld", static_cast<long long>(count(in[1])),
                  p.channel_shared ? "channel_shared" : "one per channel (C) without channel_shared",
                  static_cast<long long>(want));
    return 1;
  }
  out[0] = x;  // same dtype (float32) and shape
  return 0;
}

int compute(const QmapCustomOpAttr* attrs, int32_t num_attrs, const QmapCustomOpTensor* in, int32_t /*num_in*/,
            QmapCustomOpTensor* out, int32_t /*num_out*/, char* error, size_t size) {
  try {
    Params p;
    if (read_params(attrs, num_attrs, &p, error, size) != 0) return 1;
    const QmapCustomOpShape& s = in[0].shape;
    const float* x = static_cast<const float*>(in[0].data);
    const float* scale = static_cast<const float*>(in[1].data);
    float* y = static_cast<float*>(out[0].data);
    const int64_t batch = s.dims[0], channels = s.dims[1], inner = count(s, 2);
    // Sums in double: the result then depends on the data only, not on the summation order,
    // to well below float32's resolution.
    std::vector<double> norm(static_cast<size_t>(p.across_spatial ? 1 : inner));
    for (int64_t b = 0; b < batch; ++b) {
      const float* xb = x + b * channels * inner;
      float* yb = y + b * channels * inner;
      std::fill(norm.begin(), norm.end(), 0.0);
      for (int64_t c = 0; c < channels; ++c)
        for (int64_t i = 0; i < inner; ++i) {
          const double v = xb[c * inner + i];
          norm[p.across_spatial ? 0 : static_cast<size_t>(i)] += v * v;
        }
      for (double& n : norm) n = std::sqrt(n + static_cast<double>(p.eps));
      for (int64_t c = 0; c < channels; ++c) {
        const double sc = scale[p.channel_shared ? 0 : c];
        for (int64_t i = 0; i < inner; ++i)
          yb[c * inner + i] =
              static_cast<float>(xb[c * inner + i] / norm[p.across_spatial ? 0 : static_cast<size_t>(i)] * sc);
      }
    }
    return 0;
  } catch (const std::exception& e) {  // nothing may unwind into qmap
    return fail(error, size, e.what());
  }
}

const QmapCustomOpAttrSpec kAttrs[] = {
    {"across_spatial", QMAP_ATTR_INT, 0, "1: one norm per batch item over C x H x W; 0: per position over C (default 1)"},
    {"channel_shared", QMAP_ATTR_INT, 0, "1: scale has one value; 0: one per channel (default 1)"},
    {"eps", QMAP_ATTR_FLOAT, 0, "added to the sum of squares (default 1e-10)"},
};

const QmapCustomOpDef kNormalize = {
    QMAP_CUSTOM_OP_ABI_VERSION,
    sizeof(QmapCustomOpDef),
    "qmap.example",
    "Normalize",
    1,
    "Caffe/SSD Normalize: x / sqrt(sum x^2 + eps) * scale",
    2,
    2,
    1,
    kAttrs,
    static_cast<int32_t>(sizeof kAttrs / sizeof kAttrs[0]),
    infer,
    compute,
};

}  // namespace

extern "C" QMAP_CUSTOM_OP_EXPORT int qmap_register_custom_ops(QmapCustomOpRegistry* registry) {
  return registry->add_op(registry, &kNormalize);
}
