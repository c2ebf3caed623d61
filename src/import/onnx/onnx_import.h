// ONNX import: a .onnx file (opsets 7-17, external data allowed) into the IR.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/log.h"
#include "core/status.h"
#include "ir/graph.h"

namespace qmap {

class CustomOpSet;

struct OnnxImportOptions {
  // Overrides for graph input shapes ("--input-shape data 1x3x224x224").
  std::map<std::string, Dims> input_shapes;
  Logger* log = nullptr;  // info lines (dynamic batch defaulted to 1, ...); may be null
  // When set and the model has op types the IR does not define, receives their names
  // (sorted, unique) in addition to the error, so the checker can print them as a set.
  std::vector<std::string>* unsupported_ops = nullptr;
  // false: shapes that depend on run-time values (Resize sizes from a graph input) stay
  // unknown instead of failing; the float engine handles them, the NPU flow does not.
  bool require_static_shapes = true;
  // Custom-op plugins: a node whose domain and op type a loaded plugin defines becomes a
  // custom node (ops/custom/custom_op.h) instead of an unsupported op. May be null.
  const CustomOpSet* custom_ops = nullptr;
};

// Parses, upgrades every node to the IR's opset-17 form, validates attributes, infers
// shapes and verifies the graph. Every op type the IR does not define is reported at once:
// "onnx import: file 'm.onnx': unsupported operators: {Foo, Bar}".
// The graph's nodes keep their ONNX names; unnamed nodes get "<OpType>_<index>".
Result<Graph> import_onnx(const std::string& path, const OnnxImportOptions& options = {});

// Reads a serialized TensorProto file (ONNX test data: input_0.pb, output_0.pb).
Result<Tensor> read_onnx_tensor(const std::string& path);

}  // namespace qmap
