// libFuzzer harness: Caffe prototxt text -> import_caffe. The weights file is one of the
// project's test caffemodels (tests/data/caffe/<dir>/model.caffemodel) when the text starts
// with the comment line "# caffemodel: <dir>" (the seeds do), else an empty caffemodel, so
// layers find their blobs and the mapping runs past the weight checks.
#include <map>

#include "core/file_io.h"
#include "fuzz/fuzz_util.h"
#include "import/caffe/caffe_import.h"

namespace {
constexpr std::string_view kTag = "# caffemodel: ";
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = qmap::fuzz::as_text(data, size);
  static const std::string empty_model = qmap::fuzz::write_scratch("empty.caffemodel", "");
  std::string model = empty_model;
  if (text.substr(0, kTag.size()) == kTag) {
    const std::string dir(text.substr(kTag.size(), text.find('\n') - kTag.size()));
    if (dir.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string::npos && !dir.empty())
      model = std::string(QMAP_TEST_DATA) + "/caffe/" + dir + "/model.caffemodel";
  }
  const std::string proto = qmap::fuzz::write_scratch("deploy.prototxt", text);
  (void)qmap::import_caffe(proto, model);
  return 0;
}
