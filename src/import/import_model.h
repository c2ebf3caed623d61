// import_model: one entry to the importers (ONNX, Caffe) for every tool that reads a user's
// model by --model-type: makertbin, the checker and the Session. Below makertbin, session and
// cli (DESIGN.md section 5), above import/onnx and import/caffe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/log.h"
#include "core/status.h"
#include "ir/graph.h"

namespace qmap {

class CustomOpSet;

// `--model-type` of makertbin and checker (names: config/makertbin_config.h).
enum class ModelType { kOnnx, kCaffe };

// The model's files: ONNX reads `model` (the .onnx); Caffe reads `proto` (the deploy
// .prototxt) and `model` (the .caffemodel).
struct ModelFiles {
  std::string model;
  std::string proto;
};

// What both importers take (import/onnx/onnx_import.h, import/caffe/caffe_import.h).
struct ImportModelOptions {
  std::map<std::string, Dims> input_shapes;           // "--input-shape data 1x3x224x224"
  Logger* log = nullptr;                              // the importers' info lines; may be null
  std::vector<std::string>* unsupported_ops = nullptr;  // receives unsupported op types; may be null
  const CustomOpSet* custom_ops = nullptr;            // custom-op plugins; may be null
};

// import_onnx(files.model) or import_caffe(files.proto, files.model), with their errors.
Result<Graph> import_model(ModelType type, const ModelFiles& files, const ImportModelOptions& options = {});

}  // namespace qmap
