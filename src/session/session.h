// Session: one way to run a model of any qmap stage — the float ONNX (the user's model or
// makertbin's _original/_optimized_float_model.onnx), the quantized QDQ ONNX
// (_quantized_model.onnx, run bit-exactly by the integer simulator) and, once the runtime
// library is available, the deployable .bin. `qmap infer`, `qmap eval` and the Python
// qmap.Session sit on it.
//
// A Session is not thread-safe: run() mutates its backend's buffers. Give each worker
// thread its own Session (clone() copies the loaded model; weights are shared read-only).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/input_spec.h"
#include "config/makertbin_config.h"
#include "core/status.h"
#include "ir/tensor.h"

namespace qmap {

// A model input or output as the caller sees it: its name, element type and shape (a dim
// < 0 is dynamic: any positive size is accepted there).
struct IoInfo {
  std::string name;
  DType dtype = DType::kUndefined;
  Dims dims;
};

// What executes the model. One implementation per model kind, each in its own file
// (session/float_onnx_backend.cpp, session/quantized_onnx_backend.cpp; a .bin backend on
// the runtime library is one more). Inputs reaching run() are already checked against the
// Session's IoInfo (count, dtype, dims).
// One step's mean time (the runtime's Context::profile, include/qmap/runtime.h).
struct StepTime {
  std::string node, kind, kernel;
  double mean_us = 0;
};

class SessionBackend {
 public:
  virtual ~SessionBackend() = default;
  // What computes: the .bin's kernel level ("avx512vnni", ...), or the engine's name.
  virtual std::string kernels() const = 0;
  virtual Result<std::vector<Tensor>> run(const std::vector<Tensor>& inputs) = 0;
  // An independent copy for another thread.
  virtual std::unique_ptr<SessionBackend> clone() const = 0;
  // Per step of the runs so far, mean wall time (a .bin opened with Options::profile); empty
  // for backends that do not time steps.
  virtual std::vector<StepTime> profile() const { return {}; }
};

class Session {
 public:
  // Opens a model by its extension: .onnx (quantized when it holds QuantizeLinear or
  // DequantizeLinear nodes) or .bin. Errors name the file.
  // threads: intra-op threads of a .bin (0: one per core); the ONNX engines run on one.
  struct Options {
    int threads = 1;
    // .bin: time every step of every run (profile()); off costs nothing.
    bool profile = false;
    // Custom-op plugins (include/qmap/custom_op.h) the model's custom ops need: an ONNX model's
    // nodes of their domains, a .bin's custom steps (docs/custom-op.md).
    std::vector<std::string> custom_op_libs;
  };
  static Result<std::unique_ptr<Session>> open(const std::string& path, Options options);
  static Result<std::unique_ptr<Session>> open(const std::string& path) { return open(path, Options{}); }
  // What computes the model: a .bin's kernel level ("ref", "avx2", "avxvnni", "avx512vnni"; QMAP_ISA
  // selects), "float engine" or "integer simulator (ref)".
  std::string kernels() const { return backend_->kernels(); }

  const std::vector<IoInfo>& inputs() const { return inputs_; }
  const std::vector<IoInfo>& outputs() const { return outputs_; }

  // inputs: one tensor per model input, in inputs() order, with its dtype and dims.
  // Returns the outputs in outputs() order. A wrong count, dtype or shape is an error naming
  // the input, what was given and what the model takes.
  Result<std::vector<Tensor>> run(const std::vector<Tensor>& inputs);

  // "float onnx" | "quantized onnx" | "bin".
  std::string kind() const { return kind_; }
  // Per-step mean times of the runs so far (a .bin opened with Options::profile), else empty.
  std::vector<StepTime> profile() const { return backend_->profile(); }
  const std::string& path() const { return path_; }

  // The model's qmap metadata (the makertbin YAML it was built from), one complete spec per
  // model input in inputs() order (names and training shapes filled in from the model), or
  // empty for a model qmap did not build.
  const std::vector<InputSpec>& input_specs() const { return input_specs_; }

  // A copy that can run on another thread.
  std::unique_ptr<Session> clone() const;

  // For backends and tests: a session over an already loaded backend.
  Session(std::string path, std::string kind, std::vector<IoInfo> inputs, std::vector<IoInfo> outputs,
          std::vector<InputSpec> input_specs, std::unique_ptr<SessionBackend> backend);

 private:
  std::string path_;
  std::string kind_;
  std::vector<IoInfo> inputs_;
  std::vector<IoInfo> outputs_;
  std::vector<InputSpec> input_specs_;
  std::unique_ptr<SessionBackend> backend_;
};

// Completes InputSpecs (from a model's metadata or a --config YAML) for a model's inputs:
// one spec per input in `inputs` order, matched by name (a lone unnamed spec names the only
// input; an input the YAML does not list is a featuremap); an empty input_shape comes from
// the model: the model dims themselves, or for a uint8 image input (the runtime form
// makertbin's models take: layout_rt, runtime channels) N, H, W with the training channels
// in layout_train.
std::vector<InputSpec> match_input_specs(std::vector<InputSpec> specs, const std::vector<IoInfo>& inputs);

// Checks one input tensor against its IoInfo; errors read
// "session: input 'x': dtype float32, the model takes uint8" / "shape 1x3x8x8, the model takes 1x3x16x16".
Status check_input(const Tensor& t, const IoInfo& io);

}  // namespace qmap
