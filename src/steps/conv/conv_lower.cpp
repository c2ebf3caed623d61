// The convolution family's lowering: DQ(x) + DQ(W int8) [+ DQ(B int32)] -> Conv|Gemm|MatMul
// [-> Relu|Clip] -> Q becomes kConv; the same ending in a graph output instead of Q ("high
// precision") becomes kConvFloatOut (quant/lower.h lists every family's patterns). x and the
// output may be int16 (zero point 0) as well as 8-bit.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "core/fixed_point.h"
#include "ops/common/conv_pool_window.h"
#include "quant/lowerer.h"

namespace qmap::lowering {

// A constant int8 weight (or int32 bias) read through DequantizeLinear with zero point 0:
// its integer data and per-channel (or one) float32 scales.
namespace {

struct QWeight {
  const Tensor* data = nullptr;
  QParams qp;
};

}  // namespace

Result<bool> lower_conv(Lowerer& L, size_t ni) {
  const Node& n = L.graph().nodes[ni];
  auto x = L.int_source(n.inputs[0], true);  // 8-bit or int16 (the higher-precision form)
  if (!x) return false;
  // Weight / bias: constant int8 / int32 through DequantizeLinear with zero point 0.
  auto weight_of = [&](ValueId v, DType want) -> std::optional<QWeight> {
    const Node* dq = v == kNoValue ? nullptr : L.producer(v);
    if (dq == nullptr || dq->op != OpId::DequantizeLinear) return std::nullopt;
    const Tensor* c = L.constant(dq->inputs[0]);
    auto qp = L.qparams(*dq);
    if (c == nullptr || c->dtype() != want || !qp || !qp->zero_points_zero()) return std::nullopt;
    return QWeight{c, *qp};
  };
  auto w = weight_of(n.inputs[1], DType::kInt8);
  if (!w) return false;
  const Dims& xd = *L.graph().value(n.inputs[0]).dims;
  const Dims& wd = w->data->dims();
  kernels::ref::ConvGeometry2d geo;
  int64_t w_axis = 0;       // the output-channel axis of W as stored
  bool transpose_w = false;  // W stored [K, N]: transposed into the canonical [N, K]
  ValueId bias_v = kNoValue;
  if (n.op == OpId::Conv) {
    if (xd.size() != 4 || wd.size() != 4) return false;
    auto wg = ops::conv_geometry(n, xd, wd);
    if (!wg.ok()) return false;
    geo = {wg->batch, wg->in_channels, xd[2], xd[3], wg->out_channels, wg->out[0], wg->out[1],
           wg->kernel[0], wg->kernel[1], wg->strides[0], wg->strides[1], wg->dilations[0], wg->dilations[1],
           wg->pad_begin(0), wg->pad_begin(1), wg->group};
    bias_v = n.inputs.size() > 2 ? n.inputs[2] : kNoValue;
  } else {
    if (wd.size() != 2 || xd.size() < 2) return false;
    if (n.op == OpId::Gemm) {
      if (xd.size() != 2 || attr_int(n, "transA", 0) != 0 || attr_float(n, "alpha", 1.f) != 1.f ||
          attr_float(n, "beta", 1.f) != 1.f)
        return false;
      transpose_w = attr_int(n, "transB", 0) == 0;
      bias_v = n.inputs.size() > 2 ? n.inputs[2] : kNoValue;
    } else {
      transpose_w = true;
    }
    w_axis = transpose_w ? 1 : 0;
    const int64_t k = transpose_w ? wd[0] : wd[1], m = transpose_w ? wd[1] : wd[0];
    if (xd.back() != k) return false;
    geo.n = num_elements(xd) / k;
    geo.c = k;
    geo.m = m;
  }
  const int64_t m = geo.m;
  if (!w->qp.per_tensor() && (w->qp.axis != w_axis || static_cast<int64_t>(w->qp.scales.size()) != m))
    return false;
  std::optional<QWeight> b;
  if (bias_v != kNoValue) {
    b = weight_of(bias_v, DType::kInt32);
    if (!b || b->data->numel() != m || (!b->qp.per_tensor() && static_cast<int64_t>(b->qp.scales.size()) != m))
      return false;
  }
  auto chain = L.out_chain(n.outputs[0], true, true, true);
  if (!chain) return false;

  Step s = L.new_step(chain->q >= 0 ? StepKind::kConv : StepKind::kConvFloatOut, n);
  ConvWeights cw;
  std::vector<int32_t> bias;
  std::vector<QMultiplier> multipliers;
  std::vector<double> acc_scales;
  cw.geom = geo;
  s.inputs = {x->tensor};
  auto wv = w->data->data<int8_t>();
  if (transpose_w) {
    const int64_t k = geo.c;
    std::vector<int8_t> t(wv.size());
    for (int64_t kk = 0; kk < k; ++kk)
      for (int64_t mm = 0; mm < m; ++mm) t[static_cast<size_t>(mm * k + kk)] = wv[static_cast<size_t>(kk * m + mm)];
    cw.weights = std::move(t);
  } else {
    cw.weights.assign(wv.begin(), wv.end());
  }
  auto scale_at = [](const QParams& q, int64_t c) { return q.scales[q.per_tensor() ? 0 : static_cast<size_t>(c)]; };
  const double sx = x->q.scale;
  for (int64_t c = 0; c < m; ++c) {
    const double acc_scale = sx * static_cast<double>(scale_at(w->qp, c));  // scale of the int32 accumulator
    if (b) {
      // The contract stores bias at s_x * s_w[c]; a bias at another scale is rescaled once,
      // here, rounding half to even as QuantizeLinear would and saturating to int32.
      const int32_t bq = b->data->data<int32_t>()[static_cast<size_t>(c)];
      const double bs = scale_at(b->qp, c);
      if (std::fabs(bs - acc_scale) <= 1e-6 * acc_scale) {
        bias.push_back(bq);
      } else {
        const double r = std::nearbyint(static_cast<double>(bq) * bs / acc_scale);
        bias.push_back(static_cast<int32_t>(std::clamp(r, double{INT32_MIN}, double{INT32_MAX})));
      }
    }
    if (chain->q >= 0) multipliers.push_back(quantize_multiplier(acc_scale / static_cast<double>(chain->qp.scales[0])));
    else acc_scales.push_back(acc_scale);
  }
  cw.bias = std::move(bias);
  if (chain->q >= 0) {
    auto& c = s.as<ConvParams>();
    static_cast<ConvWeights&>(c) = std::move(cw);
    c.multipliers = std::move(multipliers);
    L.clamp_range(*chain, c.lo, c.hi);
  } else {
    auto& c = s.as<ConvFloatOutParams>();
    static_cast<ConvWeights&>(c) = std::move(cw);
    c.acc_scales = std::move(acc_scales);
    c.float_min = chain->act_min;
    c.float_max = chain->act_max;
  }
  return L.emit_pattern(ni, std::move(s), {*chain});
}

}  // namespace qmap::lowering
