// IntSimulator: runs a QDQ ONNX graph the way the deployed .bin will, by lowering it to an
// IntProgram (lower.h) and executing each step with the integer reference kernels
// (kernels/ref/) or, for float steps, the op's float eval. Outputs agree bit for bit with the
// runtime running the same program, and within one quantization step with ONNX Runtime (or
// the FloatEngine) running the QDQ graph in float.
//
// One simulator per thread: run() mutates only this object's own state.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "ir/graph.h"
#include "quant/int_program.h"

namespace qmap {

class IntSimulator {
 public:
  static Result<IntSimulator> create(const Graph& qdq_graph, bool keep_all_values = false);

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
  const IntProgram& program() const { return program_; }

 private:
  IntSimulator() = default;
  Status run_step(size_t si, std::vector<Tensor>& vals) const;

  IntProgram program_;
  bool keep_all_ = false;
  std::vector<Node> step_nodes_;       // per step: a Node carrying op + attrs (kMove/kFloat)
  std::vector<int32_t> last_use_;      // per tensor: last step reading it
  std::map<std::string, Tensor> all_values_;
  std::vector<Tensor> raw_values_;
};

}  // namespace qmap
