// Factories of the Session backends, one per model kind and file. Session::open picks one.
#pragma once

#include <memory>

#include "core/status.h"
#include "ir/graph.h"
#include "session/session.h"

namespace qmap {

// True when the graph holds QuantizeLinear or DequantizeLinear nodes (a QDQ model).
bool is_qdq_graph(const Graph& graph);

// A float graph run by the FloatEngine (session/float_onnx_backend.cpp).
Result<std::unique_ptr<SessionBackend>> make_float_onnx_backend(const Graph& graph);

// A QDQ graph lowered to an IntProgram and run by the IntSimulator, bit-exactly as the .bin
// runs on the device (session/quantized_onnx_backend.cpp).
Result<std::unique_ptr<SessionBackend>> make_quantized_onnx_backend(const Graph& graph);

}  // namespace qmap
