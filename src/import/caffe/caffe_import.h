// Caffe import: a deploy .prototxt (text NetParameter) and its .caffemodel (binary
// NetParameter with the trained blobs) into the IR, in the same opset-17 form the ONNX
// importer produces. Both the current `layer` (V2) and the legacy `layers` (V1, enum types)
// formats are read, in either file and in any combination. See docs/caffe.md for the layer
// mapping and the deviations.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/log.h"
#include "core/status.h"
#include "ir/graph.h"

namespace qmap {

class CustomOpSet;

struct CaffeImportOptions {
  // Overrides of input shapes ("--input-shape data 1x3x224x224"): rank must match the
  // declared shape when the prototxt declares one.
  std::map<std::string, Dims> input_shapes;
  Logger* log = nullptr;  // info lines (identity layers, fused in-place names, ...); may be null
  // When set and the prototxt has layer types qmap does not map, receives them (sorted,
  // unique) in addition to the error, so the checker can print them as a set.
  std::vector<std::string>* unsupported_ops = nullptr;
  // Custom-op plugins: a layer whose type a loaded plugin's op has becomes one node of that op
  // (caffe_custom.cpp), before qmap's own mapping of the type (the user chose the plugin).
  // Two plugin ops of that type in different domains are an error. May be null.
  const CustomOpSet* custom_ops = nullptr;
};

// Reads both files, maps every layer (TEST phase), attaches the weights by layer name,
// verifies the graph and infers every shape. Errors read
// "caffe import: file '<path>': layer '<name>' (<Type>): <what> <value>: <rule>", naming the
// prototxt for structure problems and the caffemodel for weight problems. Graph outputs
// are the blobs no layer consumes, in Caffe's order (sorted by name); node names are the
// layer names ("<layer>/<step>" for the extra nodes of a layer that maps onto several).
Result<Graph> import_caffe(const std::string& prototxt, const std::string& caffemodel,
                           const CaffeImportOptions& options = {});

// Reads a BlobProto file (Caffe's .binaryproto: mean files, test data) as a float32 tensor
// with the blob's shape (legacy num/channels/height/width when it has no shape).
Result<Tensor> read_caffe_blob(const std::string& path);

}  // namespace qmap
