// import_model (import_model.h): the --model-type switch over the two importers.
#include "import/import_model.h"

#include "import/caffe/caffe_import.h"
#include "import/onnx/onnx_import.h"

namespace qmap {

Result<Graph> import_model(ModelType type, const ModelFiles& files, const ImportModelOptions& options) {
  if (type == ModelType::kCaffe) {
    CaffeImportOptions o;
    o.input_shapes = options.input_shapes;
    o.log = options.log;
    o.unsupported_ops = options.unsupported_ops;
    o.custom_ops = options.custom_ops;
    return import_caffe(files.proto, files.model, o);
  }
  OnnxImportOptions o;
  o.input_shapes = options.input_shapes;
  o.log = options.log;
  o.unsupported_ops = options.unsupported_ops;
  o.custom_ops = options.custom_ops;
  return import_onnx(files.model, o);
}

}  // namespace qmap
