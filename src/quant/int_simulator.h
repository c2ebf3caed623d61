// IntSimulator: runs a QDQ ONNX graph the way the deployed .bin will: lower_qdq_graph (lower.h)
// then the runtime's own Executor (runtime/executor.h: the integer reference kernels, and the
// op's float eval for float steps). The simulator and the runtime run literally the same code,
// so they agree bit for bit by construction; both agree within one quantization step with ONNX
// Runtime (or the FloatEngine) running the QDQ graph in float.
//
// One simulator per thread: run() mutates only this object's own state.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "ir/graph.h"
#include "kernels/isa.h"
#include "program/int_program.h"
#include "runtime/executor.h"

namespace qmap {

// Copies `inputs` (one per program input, with its dtype and dims, else an error naming it)
// into the state's input buffers: what IntSimulator::run does first.
Status load_program_inputs(const IntProgram& program, rt::ExecState& state, const std::vector<Tensor>& inputs);

// The float value of a computed program tensor: 8-bit tensors with a quantization dequantized
// with its scale and zero point, anything else returned as is.
Tensor program_value_as_float(const ProgramTensor& pt, const Tensor& t);

class IntSimulator {
 public:
  // isa: the integer kernels (kRef, the specification, unless the caller only needs the
  // numbers fast: they are bit-exact, so scoring candidates on the fast kernels gives the
  // same scores; `qmap verify` keeps the reference so it compares two implementations).
  static Result<IntSimulator> create(const Graph& qdq_graph, bool keep_all_values = false,
                                     kernels::Isa isa = kernels::Isa::kRef);

  // A copy is an independent simulator (e.g. one per worker thread): it shares the prepared
  // program, read-only, and gets its own working memory.
  IntSimulator(const IntSimulator& other);
  IntSimulator& operator=(const IntSimulator& other);
  IntSimulator(IntSimulator&&) = default;
  IntSimulator& operator=(IntSimulator&&) = default;

  // inputs: one per graph input, in order, with the graph input's dtype (uint8 image inputs,
  // float32 feature maps) and shape. Returns the graph outputs with their graph dtypes.
  Result<std::vector<Tensor>> run(const std::vector<Tensor>& inputs);

  // After run() with keep_all_values: every QDQ-graph value computed, as float32 by name
  // (8-bit tensors dequantized with their scale and zero point; values absorbed by integer
  // patterns reported through IntProgram::aliases). Non-quantized integer tensors (shapes)
  // keep their dtype.
  const std::map<std::string, Tensor>& all_values() const { return all_values_; }
  // After run() with keep_all_values: every program tensor as computed (8-bit as 8-bit), by
  // index, for bit-exact comparison with the runtime.
  const std::vector<Tensor>& raw_values() const { return raw_values_; }
  const IntProgram& program() const { return executor_->program(); }
  // Float steps' GEMM (rt::Executor::set_float_sgemm): kernels::f32::sgemm_blas makes float
  // steps compute as the FloatEngine does instead of as the runtime does; copies keep it.
  void set_float_sgemm(kernels::f32::SgemmFn sgemm) { executor_->set_float_sgemm(sgemm); }

 private:
  IntSimulator() = default;

  std::optional<rt::Executor> executor_;  // set by create()
  std::optional<rt::ExecState> state_;  // reused across runs (one simulator per thread)
  std::map<std::string, Tensor> all_values_;
  std::vector<Tensor> raw_values_;
};

}  // namespace qmap
