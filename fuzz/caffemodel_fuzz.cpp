// libFuzzer harness: caffemodel bytes -> import_caffe. Input = one byte choosing the network
// (the deploy.prototxt of the k-th folder of tests/data/caffe, sorted) + the caffemodel
// bytes, so mutated weights meet a prototxt whose layer names they carry (the seeds pair
// each folder's model.caffemodel with its prototxt).
#include <algorithm>
#include <filesystem>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "import/caffe/caffe_import.h"

namespace {
const std::vector<std::string>& prototxts() {
  static const std::vector<std::string> list = [] {
    std::vector<std::string> v;
    for (const auto& e : std::filesystem::directory_iterator(std::string(QMAP_TEST_DATA) + "/caffe"))
      if (std::filesystem::exists(e.path() / "deploy.prototxt")) v.push_back((e.path() / "deploy.prototxt").string());
    std::sort(v.begin(), v.end());
    if (v.empty()) std::abort();
    return v;
  }();
  return list;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto& protos = prototxts();
  const std::string model = qmap::fuzz::write_scratch("model.caffemodel", qmap::fuzz::as_text(data + 1, size - 1));
  (void)qmap::import_caffe(protos[data[0] % protos.size()], model);
  return 0;
}
