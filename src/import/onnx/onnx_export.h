// ONNX export: the IR back to an opset-17 ModelProto that ONNX Runtime loads and
// onnx.checker accepts. import -> export -> import yields the same IR.
#pragma once

#include <string>

#include "core/status.h"
#include "ir/graph.h"

namespace qmap {

// Serialized ModelProto bytes.
Result<std::string> export_onnx_bytes(const Graph& graph);
// Writes atomically (temporary file + rename).
Status export_onnx(const Graph& graph, const std::string& path);

}  // namespace qmap
