// IntProgram: a QDQ ONNX graph lowered to integer steps (lower.h), flat and index-based so
// the .bin writer can serialize it field by field. The integer simulator (int_simulator.h)
// runs it with the reference kernels (kernels/ref/); the runtime will run the same program
// from the .bin, so both agree bit for bit.
//
// Tensors are numbered; each is a QDQ-graph value (by name) with its dtype and static dims.
// 8-bit tensors read or written by integer steps carry their per-tensor quantization
// (float32 scale as the ONNX file holds it, zero point). Steps read and write tensors by
// index; their integer parameters (geometry, clamps, multipliers, weights, bias, tables) are
// all computed offline by the lowering.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/shared_array.h"
#include "core/fixed_point.h"
#include "ir/graph.h"
#include "ir/tensor.h"
#include "kernels/f32/sgemm.h"
#include "kernels/qconv_kernel.h"
#include "kernels/ref/qconv.h"
#include "kernels/ref/qelementwise.h"
#include "kernels/ref/qpool.h"
#include "ops/op_id.h"

namespace qmap {

// Stable numeric values: the .bin stores them. Never renumber or reuse one.
enum class StepKind : uint16_t {
  kQuantize = 1,      // float32 -> 8-bit (QuantizeLinear, per tensor)
  kDequantize = 2,    // 8-bit -> float32 (DequantizeLinear, per tensor)
  kConv = 3,          // Conv/Gemm/MatMul [+ Relu/Clip], 8-bit out: conv, weights, bias, multipliers, lo/hi
  kConvFloatOut = 4,  // same, float32 out from the accumulator: acc_scales, float_min/max
  kAdd = 5,           // binary, multipliers = {s_a/s_y, s_b/s_y}, lo/hi
  kMul = 6,           // binary, multipliers = {s_a*s_b/s_y}, lo/hi
  kLut = 7,           // table (256 bytes)
  kMaxPool = 8,       // pool
  kAvgPool = 9,       // pool, count_include_pad, multipliers[count], lo/hi
  kConcat = 10,       // concat_outer, concat_blocks, concat_requant, multipliers per input
  kMove = 11,         // data movement on 8-bit values (Reshape, Transpose, Slice, Pad, Resize
                      // nearest, ...): op + attrs run by the op's own eval, any dtype
  kFloat = 12,        // a node run literally in float: op + attrs (CPU ops, unmatched nodes)
};
const char* step_kind_name(StepKind k);

struct TensorQuant {
  float scale = 1.f;
  int32_t zero_point = 0;
};

struct ProgramTensor {
  std::string name;  // the QDQ-graph value
  DType dtype = DType::kUndefined;
  Dims dims;
  std::optional<TensorQuant> quant;  // set for 8-bit tensors of integer steps
  std::optional<Tensor> constant;    // initializers and constants steps read
};

struct Step {
  StepKind kind = StepKind::kFloat;
  std::string node;                // the QDQ-graph node lowered (the compute node of a pattern)
  std::vector<int32_t> inputs;     // tensor indices; -1 for an omitted optional input
  std::vector<int32_t> outputs;
  // Integer parameters; which ones a kind uses is listed at StepKind.
  kernels::ref::ConvGeometry2d conv;
  kernels::ref::PoolGeometry2d pool;
  kernels::ref::BinaryGeometry binary;
  bool count_include_pad = false;
  int32_t lo = 0, hi = 0;          // clamp of the 8-bit output (fused Relu/Clip)
  int64_t concat_outer = 0;
  std::vector<int64_t> concat_blocks;   // per input: axis length * inner size (elements)
  std::vector<uint8_t> concat_requant;  // per input: 1 = requantize, 0 = copy
  // Blobs.
  SharedArray<int8_t> weights;          // [M][C/group][KH][KW], int8 (a .bin's are views into its bytes)
  std::vector<int32_t> bias;            // [M] at scale s_x * s_w[m]; empty: none
  std::vector<QMultiplier> multipliers;
  std::vector<double> acc_scales;       // kConvFloatOut: (double)s_x * s_w[m]
  float float_min = -std::numeric_limits<float>::infinity();  // kConvFloatOut fused Relu/Clip
  float float_max = std::numeric_limits<float>::infinity();
  std::vector<uint8_t> table;           // kLut: output byte for input q8_min + k
  // kMove / kFloat: the op and its node's attributes.
  OpId op{};
  std::string op_type;
  std::map<std::string, AttrValue> attrs;
  // kFloat steps of a custom op (op == OpId::Custom): the op's domain and version and the file
  // name of the plugin that defined it when the program was made (for the error when no loaded
  // plugin provides it), and the plugin's op that runs it: set by the lowering, or by
  // resolve_custom_ops for a program read from a .bin (which never holds plugin code).
  std::string domain;
  int64_t custom_version = 0;
  std::string custom_library;
  std::shared_ptr<const CustomOp> custom;
};

struct ProgramStats {
  int integer_steps = 0;  // integer compute and data-movement steps (kConv .. kMove)
  int border_steps = 0;   // kQuantize / kDequantize
  int float_steps = 0;    // kFloat
  std::map<std::string, int> by_kind;  // step_kind_name -> count
};

struct IntProgram {
  std::vector<ProgramTensor> tensors;
  std::vector<Step> steps;          // in execution order
  std::vector<int32_t> inputs;      // graph inputs, in the QDQ graph's order
  std::vector<int32_t> outputs;     // graph outputs
  // QDQ-graph values that a pattern absorbed (a DequantizeLinear output read only by integer
  // steps, the float output of Conv before its Relu and QuantizeLinear) -> the tensor whose
  // dequantized value stands for them (exact for the DequantizeLinear outputs; the rounded
  // value for the others). For per-node comparisons.
  std::map<std::string, int32_t> aliases;

  ProgramStats stats() const;
};

// A readable listing, one line per tensor then per step, for dumps and test failures:
//   t3 conv1_quantized uint8 1x4x8x8 q(0.0123, 0)
//   s1 conv(Conv_2) t1 -> t3 [lo 0 hi 255, 4 multipliers, weights 108, bias 4]
std::string program_text(const IntProgram& p);

// Binds every custom step of `p` to the op of `ops` with its domain, type and version. An
// error, one line naming the op and the library the program expects, when none is loaded or
// the loaded one has another version. `name` (the .bin) prefixes the message.
class CustomOpSet;
Status resolve_custom_ops(IntProgram& p, const CustomOpSet& ops, const std::string& name);

// The fast-kernel view of a kConv / kConvFloatOut step that check_step accepted: its geometry,
// signedness, zero points, blobs and output form (kernels/qconv_kernel.h). The spans point
// into the program.
kernels::QConvParams conv_kernel_params(const IntProgram& p, const Step& s);

}  // namespace qmap

namespace qmap {

// Runs one node through its OpDef (infer on the actual inputs, then eval into fresh
// outputs): how float and data-movement steps execute, and how the lowering evaluates an
// activation over 256 inputs to build its table. nullptr entries are omitted inputs.
Result<std::vector<Tensor>> eval_node(const Node& node, const std::vector<const Tensor*>& inputs);

// The same into caller-provided outputs (the runtime's arena views): one entry per output the
// op infers; an undefined entry is allocated here, a defined one must have the inferred dtype
// and dims (else an error naming the node) and receives the values in its own buffer.
// sgemm: the GEMM of float Conv/Gemm/MatMul (the runtime's portable one unless a toolchain
// caller passes another).
Status eval_node_into(const Node& node, const std::vector<const Tensor*>& inputs, std::span<Tensor> outputs,
                      kernels::f32::SgemmFn sgemm = kernels::f32::sgemm_portable);

}  // namespace qmap
