// Numeric comparison of a float tensor with its quantized counterpart: what the node table
// and the output table of makertbin print (hb_mapper's columns).
#pragma once

#include "ir/tensor.h"

namespace qmap {

struct TensorDistance {
  double cosine = 0;     // <a,b> / (|a| |b|); 1 when both are all zero, 0 when only one is
  double l1 = 0;         // mean |a - b|
  double l2 = 0;         // sqrt(sum (a - b)^2) / n (hb_mapper's "L2 Distance")
  double chebyshev = 0;  // max |a - b|
  double mse = 0;        // mean (a - b)^2
  // Signal-to-quantization-noise ratio in dB: 10 log10(sum a^2 / sum (a - b)^2); +inf when
  // the tensors are equal, -inf when the reference is all zero and the other is not.
  double sqnr_db = 0;
};

// Two tensors with the same element count (dims may differ by reshaping); sums in double, in
// element order, so the result is deterministic. Float32 is read directly; other numeric
// dtypes (an ArgMax's int64 graph output) compare by value.
TensorDistance compare_tensors(const Tensor& reference, const Tensor& other);

}  // namespace qmap
