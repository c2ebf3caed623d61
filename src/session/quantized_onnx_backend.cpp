// Session backend for quantized (QDQ) ONNX models: the IntSimulator, which lowers the graph
// to the integer program the .bin carries and runs it with the reference kernels, so its
// outputs equal the device's bit for bit.
#include <memory>

#include "quant/int_simulator.h"
#include "session/backends.h"

namespace qmap {

bool is_qdq_graph(const Graph& graph) {
  for (const Node& n : graph.nodes)
    if (n.op == OpId::QuantizeLinear || n.op == OpId::DequantizeLinear) return true;
  return false;
}

namespace {

class QuantizedOnnxBackend final : public SessionBackend {
 public:
  explicit QuantizedOnnxBackend(IntSimulator sim) : sim_(std::move(sim)) {}
  Result<std::vector<Tensor>> run(const std::vector<Tensor>& inputs) override { return sim_.run(inputs); }
  // Copies the lowered program (integer parameters shared read-only), so the graph is not
  // lowered again per worker.
  std::unique_ptr<SessionBackend> clone() const override { return std::make_unique<QuantizedOnnxBackend>(sim_); }

 private:
  IntSimulator sim_;
};

}  // namespace

Result<std::unique_ptr<SessionBackend>> make_quantized_onnx_backend(const Graph& graph) {
  QMAP_ASSIGN_OR_RETURN(IntSimulator sim, IntSimulator::create(graph, false));
  return std::unique_ptr<SessionBackend>(std::make_unique<QuantizedOnnxBackend>(std::move(sim)));
}

}  // namespace qmap
