// Quantization parameters (see quantize_params.h for the rules and rounding).
#include "quant/quantize_params.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace qmap {

namespace {

// std::nearbyint in the default rounding mode (to nearest, ties to even) is ONNX
// QuantizeLinear's rounding.
float round_half_even(float v) { return std::nearbyint(v); }
double round_half_even(double v) { return std::nearbyint(v); }

}  // namespace

float activation_scale(float threshold, bool is_unsigned) {
  return static_cast<float>(static_cast<double>(threshold) / (is_unsigned ? 255.0 : 127.0));
}

float activation_scale_int16(float threshold) {
  return static_cast<float>(static_cast<double>(threshold) / 32767.0);
}

QuantizedWeights quantize_weights(const Tensor& w, int axis) {
  QMAP_CHECK(w.dtype() == DType::kFloat32, "weights are {}", dtype_name(w.dtype()));
  // View the weights as [outer][channels][inner] (per tensor: one channel).
  const Dims& d = w.dims();
  int64_t channels = 1, inner = w.numel();
  if (axis >= 0) {
    QMAP_CHECK(axis < w.rank(), "axis {} of rank {}", axis, w.rank());
    channels = d[static_cast<size_t>(axis)];
    inner = 1;
    for (size_t i = static_cast<size_t>(axis) + 1; i < d.size(); ++i) inner *= d[i];
  }
  const int64_t outer = channels * inner == 0 ? 0 : w.numel() / (channels * inner);
  auto src = w.data<float>();
  // Element (o, c, k) is at (o * channels + c) * inner + k: loops over the three indices, not a
  // division per element (makertbin's searches quantize a model hundreds of times).
  std::vector<float> max_abs(static_cast<size_t>(channels), 0.f);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t c = 0; c < channels; ++c) {
      const float* row = src.data() + (o * channels + c) * inner;
      float m = max_abs[static_cast<size_t>(c)];
      for (int64_t k = 0; k < inner; ++k) m = std::max(m, std::fabs(row[k]));
      max_abs[static_cast<size_t>(c)] = m;
    }
  QuantizedWeights out{Tensor(DType::kInt8, d),
                       axis >= 0 ? Tensor(DType::kFloat32, {channels}) : Tensor(DType::kFloat32, {})};
  auto scale = out.scale.data<float>();
  for (size_t c = 0; c < max_abs.size(); ++c)
    scale[c] = max_abs[c] > 0 ? static_cast<float>(static_cast<double>(max_abs[c]) / 127.0) : 1.f;
  auto q = out.q.data<int8_t>();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t c = 0; c < channels; ++c) {
      const int64_t base = (o * channels + c) * inner;
      const float s = scale[static_cast<size_t>(c)];
      for (int64_t k = 0; k < inner; ++k) {
        const float r = round_half_even(src[static_cast<size_t>(base + k)] / s);
        q[static_cast<size_t>(base + k)] = static_cast<int8_t>(std::clamp(r, -127.f, 127.f));
      }
    }
  return out;
}

QuantizedWeights WeightQuantCache::get(const Tensor& w, int axis) {
  const auto key = std::make_pair(w.raw(), axis);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(key);
    if (it != entries_.end() && it->second.source.dims() == w.dims() && it->second.source.dtype() == w.dtype()) {
      ++hits_;
      return it->second.q;
    }
  }
  QuantizedWeights q = quantize_weights(w, axis);
  std::lock_guard<std::mutex> lock(mu_);
  entries_.insert_or_assign(key, Entry{w, q});
  return q;
}

size_t WeightQuantCache::hits() const {
  std::lock_guard<std::mutex> lock(mu_);
  return hits_;
}

QuantizedBias quantize_bias(const Tensor& bias, float input_scale, const Tensor& weight_scale, int64_t n) {
  QMAP_CHECK(bias.numel() == n || bias.numel() == 1, "bias of {} elements for {} channels", bias.numel(), n);
  const bool per_channel = weight_scale.rank() == 1;
  QMAP_CHECK(!per_channel || weight_scale.numel() == n, "{} weight scales for {} channels", weight_scale.numel(), n);
  const std::vector<double> b = bias.to_double();
  auto ws = weight_scale.data<float>();
  QuantizedBias out{Tensor(DType::kInt32, {n}), per_channel ? Tensor(DType::kFloat32, {n}) : Tensor(DType::kFloat32, {})};
  auto scale = out.scale.data<float>();
  for (size_t c = 0; c < scale.size(); ++c)
    scale[c] = static_cast<float>(static_cast<double>(input_scale) * static_cast<double>(ws[c]));
  auto q = out.q.data<int32_t>();
  constexpr double kLo = std::numeric_limits<int32_t>::min(), kHi = std::numeric_limits<int32_t>::max();
  for (int64_t c = 0; c < n; ++c) {
    const double v = b[b.size() == 1 ? 0 : static_cast<size_t>(c)];
    const double s = scale[per_channel ? static_cast<size_t>(c) : 0];
    // A scale that underflowed to 0 (tiny thresholds times tiny weights) saturates like any
    // overflow; NaN biases become 0.
    const double r = v / s;
    q[static_cast<size_t>(c)] = std::isnan(r) ? 0 : static_cast<int32_t>(std::clamp(round_half_even(r), kLo, kHi));
  }
  return out;
}

}  // namespace qmap
