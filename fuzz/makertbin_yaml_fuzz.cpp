// libFuzzer harness: makertbin YAML text -> parse_makertbin_config (both model types) and
// parse_stored_input_specs (the YAML a .bin or ONNX metadata carries). Parsing does not
// touch the file system, so the text is passed directly.
#include "config/makertbin_config.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = qmap::fuzz::as_text(data, size);
  (void)qmap::parse_makertbin_config(text, "/fuzz/config.yaml", qmap::ModelType::kOnnx);
  (void)qmap::parse_makertbin_config(text, "/fuzz/config.yaml", qmap::ModelType::kCaffe);
  (void)qmap::parse_stored_input_specs(text, "fuzz.bin");
  return 0;
}
