// Session backend for float ONNX models: the FloatEngine (the toolchain's float reference).
#include <memory>

#include "engine/float_engine.h"
#include "session/backends.h"

namespace qmap {

namespace {

class FloatOnnxBackend final : public SessionBackend {
 public:
  explicit FloatOnnxBackend(FloatEngine engine) : engine_(std::move(engine)) {}
  Result<std::vector<Tensor>> run(const std::vector<Tensor>& inputs) override { return engine_.run(inputs); }
  // The engine holds a copy of the graph; copying it shares the constant tensors' buffers,
  // which run() only reads.
  std::unique_ptr<SessionBackend> clone() const override { return std::make_unique<FloatOnnxBackend>(engine_); }

 private:
  FloatEngine engine_;
};

}  // namespace

Result<std::unique_ptr<SessionBackend>> make_float_onnx_backend(const Graph& graph) {
  QMAP_ASSIGN_OR_RETURN(FloatEngine engine, FloatEngine::create(graph));
  return std::unique_ptr<SessionBackend>(std::make_unique<FloatOnnxBackend>(std::move(engine)));
}

}  // namespace qmap
