// Factories of the Session backends, one per model kind and file. Session::open picks one.
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "core/status.h"
#include "ir/graph.h"
#include "session/session.h"

namespace qmap {

// A backend over an engine object with `Result<std::vector<Tensor>> run(inputs)` that is
// copyable into an independent instance (FloatEngine, IntSimulator): copies share the
// constant tensors' buffers, which run() only reads, and own their working buffers.
template <typename Engine>
class EngineBackend final : public SessionBackend {
 public:
  EngineBackend(Engine engine, std::string kernels) : engine_(std::move(engine)), kernels_(std::move(kernels)) {}
  std::string kernels() const override { return kernels_; }
  Result<std::vector<Tensor>> run(const std::vector<Tensor>& inputs) override { return engine_.run(inputs); }
  std::unique_ptr<SessionBackend> clone() const override { return std::make_unique<EngineBackend>(engine_, kernels_); }

 private:
  Engine engine_;
  std::string kernels_;
};

// True when the graph holds QuantizeLinear or DequantizeLinear nodes (a QDQ model).
bool is_qdq_graph(const Graph& graph);

// A float graph run by the FloatEngine (session/float_onnx_backend.cpp).
Result<std::unique_ptr<SessionBackend>> make_float_onnx_backend(const Graph& graph);

// A QDQ graph lowered to an IntProgram and run by the IntSimulator, bit-exactly as the .bin
// runs on the device (session/quantized_onnx_backend.cpp).
Result<std::unique_ptr<SessionBackend>> make_quantized_onnx_backend(const Graph& graph);

// A .bin file run by the runtime library (session/bin_backend.cpp), with its inputs, outputs
// and the makertbin YAML stored in it.
struct BinModel {
  std::vector<IoInfo> inputs, outputs;
  std::string yaml_text;
  std::unique_ptr<SessionBackend> backend;
};
// custom_op_libs: plugins providing the .bin's custom ops (rt::LoadOptions::custom_op_libs).
Result<BinModel> open_bin_model(const std::string& path, int threads = 1, bool profile = false,
                                const std::vector<std::string>& custom_op_libs = {});

}  // namespace qmap
