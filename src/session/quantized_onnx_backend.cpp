// Session backend for quantized (QDQ) ONNX models: the IntSimulator, which lowers the graph
// to the integer program the .bin carries and runs it with the reference kernels, so its
// outputs equal the device's bit for bit. A clone copies the lowered program, so the graph
// is lowered once, not once per worker.
#include "quant/int_simulator.h"
#include "session/backends.h"

namespace qmap {

bool is_qdq_graph(const Graph& graph) {
  for (const Node& n : graph.nodes)
    if (n.op == OpId::QuantizeLinear || n.op == OpId::DequantizeLinear) return true;
  return false;
}

Result<std::unique_ptr<SessionBackend>> make_quantized_onnx_backend(const Graph& graph) {
  QMAP_ASSIGN_OR_RETURN(IntSimulator sim, IntSimulator::create(graph, false));
  return std::unique_ptr<SessionBackend>(std::make_unique<EngineBackend<IntSimulator>>(std::move(sim), "integer simulator (ref)"));
}

}  // namespace qmap
