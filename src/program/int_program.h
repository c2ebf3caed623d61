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
#include <utility>
#include <vector>

#include "core/shared_array.h"
#include "core/status.h"
#include "core/fixed_point.h"
#include "ir/graph.h"
#include "ir/tensor.h"
#include "kernels/f32/sgemm.h"
#include "kernels/qconv_kernel.h"
#include "kernels/ref/qconv.h"
#include "kernels/ref/qelementwise.h"
#include "kernels/ref/qpool.h"
#include "ops/op_id.h"
#include "program/step_params.h"

namespace qmap {

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
  OpId op{};                       // that node's op (every kind: tools name steps by it)
  std::string op_type;
  std::vector<int32_t> inputs;     // tensor indices; -1 for an omitted optional input
  std::vector<int32_t> outputs;
  StepParams params = GenericParams{};  // the alternative of `kind` (step_params_index); set()

  // Sets the kind and fresh parameters of its type; P must be the kind's type.
  template <class P>
  P& set(StepKind k) {
    QMAP_CHECK(step_params_index(k) == step_params_index_of<P>(), "Step::set: {} steps do not hold these parameters",
               step_kind_name(k));
    kind = k;
    return params.emplace<P>();
  }
  // The parameters as P; P must be the type the step holds.
  template <class P>
  P& as() {
    P* p = std::get_if<P>(&params);
    QMAP_CHECK(p != nullptr, "step '{}' ({}): parameters of another type", node, step_kind_name(kind));
    return *p;
  }
  template <class P>
  const P& as() const {
    return const_cast<Step*>(this)->as<P>();
  }
  // The weights and geometry of a kConv or kConvFloatOut step; nullptr for other kinds.
  const ConvWeights* conv_weights() const;
  ConvWeights* conv_weights() { return const_cast<ConvWeights*>(std::as_const(*this).conv_weights()); }
};

struct ProgramStats {
  int integer_steps = 0;  // integer compute and data-movement steps (kConv .. kMove)
  int border_steps = 0;   // kQuantize / kDequantize
  int float_steps = 0;    // kFloat
  std::map<std::string, int> by_kind;  // step_kind_name -> count
};

// A fast convolution kernel's packed weights and row sums, stored in a .bin (docs/format.md,
// PACKED) so that loading adopts them instead of packing (kernels::QConvPacked).
struct PackedWeights {
  int32_t step = 0;     // a kConv / kConvFloatOut step
  std::string layout;   // the kernel's QConvPacked::layout, "<isa>.<path>..."
  SharedArray<std::byte> bytes;     // the packed weights
  SharedArray<int64_t> row_sums;    // [M] each output channel's sum of weights
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
  // Optional: packed weights for the ISAs the .bin was made for (at most one per step and
  // layout). The reference kernels and the simulator never read them.
  std::vector<PackedWeights> packed;

  ProgramStats stats() const;
};

// A readable listing, one line per tensor then per step, for dumps and test failures:
//   t3 conv1_quantized uint8 1x4x8x8 q(0.0123, 0)
//   s1 conv(Conv_2) t1 -> t3 [lo 0 hi 255, 4 multipliers, weights 108, bias 4]
std::string program_text(const IntProgram& p);

// Each step kind's parameter fields in file order with their encodings, one line per kind
// ("3 conv: i64 n, ..., blob<i8> weights, ..."): what docs/format.md §3 STEPS lists (a test
// keeps the two equal).
std::string step_params_layout();

// The node a move or float step runs through its op (name, op, attributes, custom-op domain
// and plugin); for other kinds the node's identity only.
Node step_node(const Step& s);

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

// eval_node_into without its shape inference, for a caller that has proven once that every
// output is defined with the dtype and dims the op infers from these inputs, one entry per
// output the op has: the runtime's move and float steps (check_step compared their declared
// outputs with the op's inference at prepare, and their tensors never change shape). Shape
// inference was a third to nearly half of a small move's time (bench/move_steps).
Status eval_node_checked(const Node& node, const std::vector<const Tensor*>& inputs, std::span<Tensor> outputs,
                         kernels::f32::SgemmFn sgemm = kernels::f32::sgemm_portable);

}  // namespace qmap
