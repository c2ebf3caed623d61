// libFuzzer harness: ONNX model bytes -> import_onnx (parse, opset upgrade, attribute checks,
// shape inference, verifier). Any input must give a graph or an error, never a crash.
#include "fuzz/fuzz_util.h"
#include "import/onnx/onnx_import.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = qmap::fuzz::write_scratch("model.onnx", qmap::fuzz::as_text(data, size));
  (void)qmap::import_onnx(path);
  return 0;
}
