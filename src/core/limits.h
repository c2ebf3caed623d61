#pragma once

#include <cstdint>

namespace qmap {

// The most elements one tensor may have: 2^29 (2 GiB of float32). The largest tensors of real
// CNNs are about 2^27 elements (a 256-channel 512x1024 segmentation map, VGG's 25088x4096
// fully connected weights). Sizes come from files (an ONNX model's declared shapes, Reshape
// targets and Resize scales, a Caffe input_dim, a YAML input_shape, a .bin's tensor table), so
// a crafted file of a few hundred bytes gets an error naming the node or field here, before
// anything allocates gigabytes, and never signed overflow in element counts: dims of tensors
// under this limit can be added and multiplied in int64 freely. docs/reliability.md, §5.
inline constexpr int64_t kMaxTensorElements = int64_t{1} << 29;

}  // namespace qmap
