// Session backend for float ONNX models: the FloatEngine (the toolchain's float reference).
#include "engine/float_engine.h"
#include "session/backends.h"

namespace qmap {

Result<std::unique_ptr<SessionBackend>> make_float_onnx_backend(const Graph& graph) {
  QMAP_ASSIGN_OR_RETURN(FloatEngine engine, FloatEngine::create(graph));
  return std::unique_ptr<SessionBackend>(std::make_unique<EngineBackend<FloatEngine>>(std::move(engine), "float engine"));
}

}  // namespace qmap
