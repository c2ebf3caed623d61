// A stand-in for src/session/session.h (being written in parallel) with exactly its
// interface, so the Python bindings compile against the final API today. It opens .onnx
// models only: a float model runs on the FloatEngine, a QDQ (quantized) model on the
// IntSimulator. When src/session lands on main, the bindings include it instead and this
// file is deleted.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/input_spec.h"
#include "core/status.h"
#include "engine/float_engine.h"
#include "ir/graph.h"
#include "ir/tensor.h"
#include "quant/int_simulator.h"

namespace qmap {

// One model input or output as the application sees it.
struct IoInfo {
  std::string name;
  DType dtype = DType::kUndefined;
  Dims dims;  // a dim < 0 is dynamic
};

class Session {
 public:
  // .onnx (float or QDQ); errors name the file. .bin needs the runtime (not in this build).
  static Result<std::unique_ptr<Session>> open(const std::string& path);

  const std::vector<IoInfo>& inputs() const { return inputs_; }
  const std::vector<IoInfo>& outputs() const { return outputs_; }
  // inputs: one per model input, in inputs() order, with its dtype and static dims.
  // Not reentrant: callers serialize run() on one Session (one Session per thread).
  Result<std::vector<Tensor>> run(const std::vector<Tensor>& inputs);
  // "float onnx", "quantized onnx" or "bin".
  std::string kind() const { return kind_; }
  // The model's input_parameters as `qmap makertbin` stored them (ONNX metadata
  // "qmap_makertbin_yaml"), names and shapes completed from the model; empty for a model
  // that makertbin did not produce.
  const std::vector<InputSpec>& input_specs() const { return specs_; }

 private:
  Session() = default;

  std::string path_;
  std::string kind_;
  std::vector<IoInfo> inputs_, outputs_;
  std::vector<InputSpec> specs_;
  std::unique_ptr<FloatEngine> float_engine_;
  std::unique_ptr<IntSimulator> int_simulator_;
};

}  // namespace qmap
