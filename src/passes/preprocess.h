// The preprocess node (docs/quantization.md "Preprocess node"): at each image input the
// graph takes the uint8 image the application has at run time (input_type_rt,
// input_layout_rt) and computes, with standard ONNX ops, exactly the float tensor the model
// was trained on (input_type_train, input_layout_train, (x - mean) * scale).
#pragma once

#include <span>

#include "config/input_spec.h"
#include "core/status.h"
#include "ir/graph.h"

namespace qmap {

// For each spec with spec.is_image(): the graph input of that name becomes uint8 in the
// runtime type and layout (shape: the training shape's N, H, W with the runtime type's
// channels; nv12 is represented as yuv444, 3 full-resolution channels, as the runtime
// upsamples chroma) and keeps its name; a chain of nodes computes the training tensor for the
// model's nodes:
//   Cast (uint8 -> float32)   'PREPROCESS_<input>_cast'
//   Transpose                 '..._transpose'   when layout_rt != layout_train
//   color conversion          '..._color', '..._clip'  yuv -> rgb/bgr: 1x1 Conv with the
//                             BT.601 inverse matrix and offset, then Clip(0, 255); rgb <-> bgr
//                             alone is a channel permutation folded into the normalization
//   normalization             (x - mean) * scale: a depthwise 1x1 Conv (W = scale,
//                             B = -mean * scale), absent for no_preprocess
// The last node of the chain is named 'PREPROCESS_<input>'. With layout_train NHWC a Conv
// cannot act on the channel axis: the color matrix is a MatMul + Add and the normalization
// Sub + Mul with [1, 1, 1, C] constants. Featuremap inputs stay float32, untouched.
// Errors (one line naming the input and the rule): no graph input of that name, an image
// input that is not 4-D or not float32, input_shape differing from the model's, channel
// counts that do not match the types, an unsupported type conversion, nv12 with odd height
// or width, mean/scale counts other than 1 or the channel count.
Status insert_preprocess(Graph& g, std::span<const InputSpec> specs);

// The name of the preprocess chain's main (last) node for graph input `input`.
std::string preprocess_node_name(const std::string& input);

}  // namespace qmap
