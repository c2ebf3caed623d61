// Quantization parameters from float tensors (the numeric half of the quantizer):
// activation scales from thresholds, symmetric int8 weights per channel or per tensor, and
// int32 biases at the accumulator's scale. Scales are float32, as ONNX stores them.
#pragma once

#include <map>
#include <mutex>

#include "ir/tensor.h"

namespace qmap {

// Activation scale of threshold T (float units, > 0): T/255 for uint8, T/127 for int8, the
// quotient computed in double and rounded once to float32.
float activation_scale(float threshold, bool is_unsigned);
// The int16 form's (the higher-precision activations, symmetric, zero point 0): T/32767, in
// double, rounded once to float32.
float activation_scale_int16(float threshold);

struct QuantizedWeights {
  Tensor q;      // int8, the weight's dims
  Tensor scale;  // float32: [channels] per channel, scalar per tensor
};

// Symmetric int8 along `axis` (the output channel), or per tensor when axis < 0:
// scale_c = max|W_c| / 127 (1 for an all-zero channel), q = round_half_even(w / scale_c)
// in float32 (as QuantizeLinear divides), clamped to [-127, 127] so the range stays
// symmetric.
QuantizedWeights quantize_weights(const Tensor& w, int axis);

// quantize_weights' results kept between quantize_graph calls over the same float constants:
// makertbin's searches quantize one graph hundreds of times with other thresholds, and the
// weights' codes and scales do not depend on them (ResNet-50: 25 M weights each time). Keyed
// by the constant's buffer and the axis; an entry holds a reference to that buffer, so the
// address cannot be reused by another tensor while the cache lives. Constants must not be
// written in place while a cache holds them (the quantizer never writes them). Thread-safe.
class WeightQuantCache {
 public:
  QuantizedWeights get(const Tensor& w, int axis);
  size_t hits() const;

 private:
  struct Entry {
    Tensor source;  // keeps the keyed buffer alive
    QuantizedWeights q;
  };
  mutable std::mutex mu_;
  std::map<std::pair<const std::byte*, int>, Entry> entries_;
  size_t hits_ = 0;
};

struct QuantizedBias {
  Tensor q;      // int32 [N]
  Tensor scale;  // float32 [N] when weight_scale has N elements, else scalar
};

// int32 bias of N = weight_scale's channel count (or bias.numel() for a per-tensor
// weight_scale) values: scale_c = float32(s_x * s_w[c]) (the exact product of two float32,
// rounded once: ONNX Runtime's quantizer computes the same), q = round_half_even(b / scale_c)
// in double, saturated to int32. A bias of one element is broadcast to N.
QuantizedBias quantize_bias(const Tensor& bias, float input_scale, const Tensor& weight_scale, int64_t n);

}  // namespace qmap
