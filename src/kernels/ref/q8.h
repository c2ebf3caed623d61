// Views of quantized activation buffers (int8, uint8 or int16 elements, chosen at run time)
// for the integer reference kernels. The kernels take these instead of one template instance
// per input/output type combination; values are read and written as int32. int16 is the
// higher-precision activation form (docs/quantization.md, "Representation"): symmetric, zero
// point 0, what the accuracy budget gives its most sensitive tensors.
#pragma once

#include <cstdint>

namespace qmap::kernels::ref {

struct Q8In {
  const void* data = nullptr;
  bool is_signed = true;  // int8 when true, uint8 otherwise (ignored when wide)
  bool wide = false;      // int16
  int32_t operator[](int64_t i) const {
    if (wide) return static_cast<const int16_t*>(data)[i];
    return is_signed ? static_cast<const int8_t*>(data)[i] : static_cast<const uint8_t*>(data)[i];
  }
};

struct Q8Out {
  void* data = nullptr;
  bool is_signed = true;
  bool wide = false;  // int16
  // v must already be in the element type's range (kernels clamp to lo/hi first).
  void set(int64_t i, int32_t v) const {
    if (wide) static_cast<int16_t*>(data)[i] = static_cast<int16_t>(v);
    else if (is_signed) static_cast<int8_t*>(data)[i] = static_cast<int8_t>(v);
    else static_cast<uint8_t*>(data)[i] = static_cast<uint8_t>(v);
  }
  Q8In in() const { return {data, is_signed, wide}; }
};

// The value range of an 8-bit type: [-128, 127] or [0, 255].
inline int32_t q8_min(bool is_signed) { return is_signed ? -128 : 0; }
inline int32_t q8_max(bool is_signed) { return is_signed ? 127 : 255; }
// The same with int16 ([-32768, 32767]) when wide.
inline int32_t q_min(bool is_signed, bool wide) { return wide ? -32768 : q8_min(is_signed); }
inline int32_t q_max(bool is_signed, bool wide) { return wide ? 32767 : q8_max(is_signed); }

}  // namespace qmap::kernels::ref
