// Byte copy shared by the pass-through ops of the elementwise family (Identity, Dropout):
// works for every IR dtype since it moves nbytes() = numel * dtype_size bytes.
#pragma once

#include <cstring>

#include "ir/tensor.h"

namespace qmap::ops {

// dst must already have src's dtype and element count (the engine allocates it from infer).
inline void copy_tensor_bytes(const Tensor& src, Tensor& dst) {
  QMAP_CHECK(src.nbytes() == dst.nbytes(), "copy of {} bytes into {}", src.nbytes(), dst.nbytes());
  if (src.nbytes() > 0) std::memcpy(dst.raw(), src.raw(), src.nbytes());
}

}  // namespace qmap::ops
