// OpDef: everything about one op, defined in one place (its folder under src/ops/).
// The registry builds the enum, the name table and the hook tables from ops/op_list.def.
//
// An op folder defines `const OpDef kDef` in namespace qmap::ops::<folder> with:
//   attrs   — name, type, default (text, as shown in docs/ops.md) and meaning of each attribute;
//   infer   — output dtypes and shapes from the inputs (values too when they are known), and
//             every check of attributes and shapes: the float kernel may assume they passed;
//   eval    — the float reference kernel (also integer for shape arithmetic such as Shape,
//             Gather, Cast); runs only on inputs that `infer` accepted.
// and its integer side (docs/adding-an-op.md):
//   quant_rule — how the quantizer treats a node (QuantKind), or why it stays float;
//   lowering   — the integer step family lowering emits for it (quant/lower.cpp);
//   int8_via   — for an op without an integer step of its own that the float passes rewrite
//                into ops that have one (BatchNormalization -> Conv): how;
//   output_non_negative — whether the outputs are >= 0 given the inputs' signs (unsigned codes).
// A march may list an op as an NPU op only when it has `lowering` or `int8_via` (checked when
// the spec loads).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/status.h"
#include "ir/graph.h"
#include "ir/tensor.h"
#include "kernels/f32/sgemm.h"

namespace qmap {

struct AttrSpec {
  const char* name;
  AttrType type;
  const char* default_text;  // nullptr: required
  const char* doc;
};

// What is known about one tensor during shape inference or execution.
struct TensorInfo {
  bool present = false;              // false for an omitted optional input
  DType dtype = DType::kUndefined;
  std::optional<Dims> dims;          // nullopt when unknown
  const Tensor* value = nullptr;     // set when the tensor's contents are known
};

// What is known about a tensor whose contents are at hand (engine, tests); nullptr gives
// the info of an omitted optional input.
TensorInfo tensor_info_of(const Tensor* t);

// What is known about each input of `node` in `graph` (dims and constants as inferred).
std::vector<TensorInfo> input_infos(const Graph& graph, const Node& node);

class InferCtx {
 public:
  InferCtx(const Node& node, std::span<const TensorInfo> inputs)
      : node_(node), inputs_(inputs) {}

  const Node& node() const { return node_; }
  int num_inputs() const { return static_cast<int>(inputs_.size()); }
  // True if input i exists and is not an empty optional.
  bool has_input(int i) const { return i < num_inputs() && inputs_[static_cast<size_t>(i)].present; }
  const TensorInfo& input(int i) const { return inputs_[static_cast<size_t>(i)]; }
  DType dtype(int i) const { return input(i).dtype; }
  bool dims_known(int i) const { return has_input(i) && input(i).dims.has_value(); }
  const Dims& dims(int i) const {
    QMAP_CHECK(dims_known(i), "input {} of '{}' has unknown shape", i, node_.name);
    return *input(i).dims;
  }
  int rank(int i) const { return static_cast<int>(dims(i).size()); }
  const Tensor* value(int i) const { return has_input(i) ? input(i).value : nullptr; }

  void set_output(int i, DType dtype, std::optional<Dims> dims);
  // For ops whose output is known without running the graph (Shape of a static tensor).
  void set_output_value(int i, Tensor value);

  struct Output {
    DType dtype = DType::kUndefined;
    std::optional<Dims> dims;
    std::optional<Tensor> value;
  };
  std::vector<Output>& outputs() { return outputs_; }
  const std::vector<Output>& outputs() const { return outputs_; }

  // Error naming the node: "<OpType> '<node>': <message>".
  template <typename... Args>
  Status error(fmt::format_string<Args...> f, Args&&... args) const {
    return Status::error(fmt::format("{} '{}': {}", node_.op_type, node_.name,
                                     fmt::format(f, std::forward<Args>(args)...)));
  }

 private:
  const Node& node_;
  std::span<const TensorInfo> inputs_;
  std::vector<Output> outputs_;
};

struct EvalCtx {
  const Node& node;
  std::span<const Tensor* const> inputs;  // nullptr for an omitted optional input
  // Allocated by the caller from infer's dims with unspecified contents
  // (Tensor::uninitialized): eval must write every element of every output.
  std::span<Tensor> outputs;
  int num_threads = 1;
  // The GEMM behind Conv, ConvTranspose, Gemm and MatMul (kernels/f32/sgemm.h). The portable
  // one unless the caller passes another: the runtime and the integer simulator run float steps
  // with it (one code path, equal bits); the toolchain's float engine, shape inference and
  // constant folding pass sgemm_blas.
  kernels::f32::SgemmFn sgemm = kernels::f32::sgemm_portable;

  const Tensor& in(int i) const { return *inputs[static_cast<size_t>(i)]; }
  bool has(int i) const { return i < static_cast<int>(inputs.size()) && inputs[static_cast<size_t>(i)] != nullptr; }
  Tensor& out(int i) const { return outputs[static_cast<size_t>(i)]; }
  template <typename... Args>
  Status error(fmt::format_string<Args...> f, Args&&... args) const {
    return Status::error(fmt::format("{} '{}': {}", node.op_type, node.name,
                                     fmt::format(f, std::forward<Args>(args)...)));
  }
};

// Named parameters of one node that a target spec can limit (targets/*.yaml). Each op
// reports the ones that matter for it, with the names documented in docs/targets.md:
// kernel, stride, dilation, pad, group, in_channels, out_channels, mode, broadcast, ...
struct OpParam {
  std::string name;
  std::vector<int64_t> ints;  // numeric parameters (kernel = {kh, kw})
  std::string text;           // textual parameters (mode = "nearest")
};
using OpParams = std::vector<OpParam>;

using InferFn = Status (*)(InferCtx&);
using EvalFn = Status (*)(EvalCtx&);
// Rewrites a node imported from an ONNX opset into the IR's opset-17 form (e.g. Clip-6
// min/max attributes become inputs; Upsample becomes Resize). `nodes` holds the one node as
// imported (attributes not yet validated); the hook edits it or replaces it with several
// nodes, in topological order, that produce the same outputs. It may add constants and
// intermediate values to the graph and must remove legacy attributes it consumed. Runs
// before attribute validation against `attrs`.
using UpgradeFn = Status (*)(Graph& graph, int64_t opset, std::vector<Node>& nodes);
// Reports the node's target-limitable parameters. `ctx` describes the inputs (shapes and
// known constants such as weights); `outputs` the inferred output shapes.
using NpuParamsFn = void (*)(const InferCtx& ctx, std::span<const std::optional<Dims>> outputs,
                             OpParams& params);

// How the quantizer treats a node of the optimized float graph (quant/quantize_rules.h,
// docs/quantization.md "Integer forms").
enum class QuantKind {
  kFloat,        // no integer form: runs in float on the CPU
  kWeighted,     // Conv, Gemm, MatMul with constant weights: int8 weights per output channel,
                 // int32 bias
  kOwnScale,     // Add, Mul, AveragePool, GlobalAveragePool, ReduceMean over H and W:
                 // integer arithmetic requantized to the output's calibrated scale
  kTable,        // Sigmoid, Tanh, HardSigmoid, HardSwish, LeakyRelu, Elu, Relu, Clip, PRelu
                 // with one slope: a 256-entry table from the input's 8-bit code to the output's
  kPassThrough,  // data movement and max selection: the output keeps the input's scale
  kConcat,       // one shared output scale; inputs requantized to it unless unified
  kImageInput,   // Cast of a uint8 image input: becomes DequantizeLinear(scale 1, zp 0)
};

// The integer form of `n`, or kFloat with what lacks one in *why (it follows "no integer form
// for ": "PRelu with per-channel or non-constant slopes (...)"). Only structure is used
// (shapes, constants, attributes), never calibration data. Called only for nodes whose data
// input and outputs are float32.
using QuantRuleFn = QuantKind (*)(const Graph& g, const Node& n, std::string* why);

// The integer step family whose lowering (src/steps/<folder>/<folder>_lower.cpp) handles a
// quantized node, one value per QMAP_STEP_FAMILY line of src/steps/step_list.def: kNone (the
// float family: no integer form), kMatMulLike (conv: Conv, Gemm, MatMul; fused Relu/Clip;
// high-precision outputs), kBinary (add, mul), kTable (lut: Q(f(DQ(code))) for the 256 codes),
// kPool (max / average pooling, global ones, spatial ReduceMean / ReduceMax), kConcat,
// kMove (data movement on the codes), kQuantize, kDequantize. A pattern that does not match (a
// scale that differs, a non-constant parameter) becomes a float step.
enum class Int8Lowering {
#define QMAP_STEP_FAMILY(Lowering, folder, label) k##Lowering,
#define QMAP_STEP(Kind, name, id, Params)
#include "steps/step_list.def"
#undef QMAP_STEP
#undef QMAP_STEP_FAMILY
};

// docs/ops.md's int8 column for a family ("conv", "table", ...; "" for kNone).
const char* int8_lowering_label(Int8Lowering l);

// What the quantizer knows about the signs of a node's inputs (quant/quantize.cpp propagates
// it through the graph): input i is non-negative when it is omitted, a constant without a
// negative element (NaN counts as negative), or an activation already proven non-negative.
class InputSigns {
 public:
  InputSigns(const Graph& g, const Node& n, const std::vector<bool>& non_negative_values)
      : g_(g), n_(n), values_(non_negative_values) {}
  bool non_negative(size_t i) const;
  bool all_non_negative() const;

 private:
  const Graph& g_;
  const Node& n_;
  const std::vector<bool>& values_;
};

// True when every output value of `n` is >= 0 whatever the inputs' values, given which inputs
// are: the quantizer then gives the outputs unsigned 8-bit codes (VNNI multiplies unsigned by
// signed bytes). nullptr: nothing is proven (signed codes).
using NonNegativeFn = bool (*)(const Graph& g, const Node& n, const InputSigns& inputs);

struct OpDef {
  const char* name;
  const char* summary;  // one line for docs/ops.md and the checker
  int min_inputs;
  int max_inputs;       // -1: variadic
  int min_outputs;
  int max_outputs;      // -1: variadic
  std::span<const AttrSpec> attrs;
  InferFn infer;
  EvalFn eval;
  UpgradeFn upgrade_onnx = nullptr;
  NpuParamsFn npu_params = nullptr;  // nullptr: nothing op-specific to limit
  // Output 0 may share the buffer of an input with output 0's dtype and dims: eval reads
  // that input's element i only to compute output element i, before writing it
  // (elementwise ops). The engine then hands a dying input's buffer to the output instead of
  // allocating a new one and streaming through both.
  bool in_place = false;

  // Integer side (see the top of this file). quant_rule nullptr: float, reason the op type.
  QuantRuleFn quant_rule = nullptr;
  Int8Lowering lowering = Int8Lowering::kNone;
  const char* int8_via = nullptr;
  NonNegativeFn output_non_negative = nullptr;
};

// Quant rules shared by ops whose integer form does not depend on the node.
template <QuantKind K>
QuantKind quant_always(const Graph&, const Node&, std::string*) {
  return K;
}

// Sign rules shared by many ops: outputs never negative (Relu, Sigmoid, Softmax, ...); as
// input 0 (selections, copies and averages of it); when every input is (sums, products and
// concatenations of non-negative values).
inline bool non_negative_always(const Graph&, const Node&, const InputSigns&) { return true; }
inline bool non_negative_as_input0(const Graph&, const Node&, const InputSigns& in) { return in.non_negative(0); }
inline bool non_negative_as_all_inputs(const Graph&, const Node&, const InputSigns& in) { return in.all_non_negative(); }

}  // namespace qmap
