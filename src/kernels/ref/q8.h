// Views of 8-bit quantized buffers (int8 or uint8 elements, chosen at run time) for the
// integer reference kernels. The kernels take these instead of one template instance per
// input/output signedness combination; values are read and written as int32.
#pragma once

#include <cstdint>

namespace qmap::kernels::ref {

struct Q8In {
  const void* data = nullptr;
  bool is_signed = true;  // int8 when true, uint8 otherwise
  int32_t operator[](int64_t i) const {
    return is_signed ? static_cast<const int8_t*>(data)[i] : static_cast<const uint8_t*>(data)[i];
  }
};

struct Q8Out {
  void* data = nullptr;
  bool is_signed = true;
  // v must already be in the element type's range (kernels clamp to lo/hi first).
  void set(int64_t i, int32_t v) const {
    if (is_signed) static_cast<int8_t*>(data)[i] = static_cast<int8_t>(v);
    else static_cast<uint8_t*>(data)[i] = static_cast<uint8_t>(v);
  }
  Q8In in() const { return {data, is_signed}; }
};

// The value range of an 8-bit type: [-128, 127] or [0, 255].
inline int32_t q8_min(bool is_signed) { return is_signed ? -128 : 0; }
inline int32_t q8_max(bool is_signed) { return is_signed ? 127 : 255; }

}  // namespace qmap::kernels::ref
