// A main() for the fuzz harnesses in builds without libFuzzer (gcc, normal and sanitizer
// builds): runs LLVMFuzzerTestOneInput once on every file named on the command line (folders:
// every file inside, sorted). ctest runs each harness over its seed corpus and its
// regression inputs (fuzz/regressions/<harness>/, one file per crash the fuzzer found), so a
// fixed reader bug stays fixed in every build, sanitized or not.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "core/file_io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path arg = argv[i];
    if (std::filesystem::is_directory(arg)) {
      std::vector<std::filesystem::path> in_dir;
      for (const auto& e : std::filesystem::recursive_directory_iterator(arg))
        if (e.is_regular_file()) in_dir.push_back(e.path());
      std::sort(in_dir.begin(), in_dir.end());
      files.insert(files.end(), in_dir.begin(), in_dir.end());
    } else {
      files.push_back(arg);
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "no input files in the arguments\n");
    return 2;
  }
  for (const auto& f : files) {
    auto bytes = qmap::read_file(f.string());
    if (!bytes.ok()) {
      std::fprintf(stderr, "%s\n", bytes.status().message().c_str());
      return 2;
    }
    std::fprintf(stderr, "%s (%zu bytes)\n", f.string().c_str(), bytes->size());
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size());
  }
  std::fprintf(stderr, "%zu inputs: no crash\n", files.size());
  return 0;
}
