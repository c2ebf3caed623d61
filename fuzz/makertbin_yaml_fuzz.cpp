// libFuzzer harness: makertbin YAML text -> parse_makertbin_config (both model types, through
// parse_stored_input_specs: the YAML a .bin or ONNX metadata carries). Parsing does not
// touch the file system, so the text is passed directly.
#include "config/makertbin_config.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = qmap::fuzz::as_text(data, size);
  // parse_stored_input_specs reads the text as an ONNX config, then as a Caffe one if that
  // fails; the Caffe reading of a text the ONNX one accepted is the one case it skips. Two
  // parses per input instead of four: yaml-cpp under ASan is most of this harness's time.
  if (qmap::parse_stored_input_specs(text, "/fuzz/config.yaml").ok())
    (void)qmap::parse_makertbin_config(text, "/fuzz/config.yaml", qmap::ModelType::kCaffe);
  return 0;
}
