// ONNX conformance: every node test case of an op qmap supports must pass, except the
// deliberately rejected ones listed below with the reason; those must fail with a clear
// error (never a crash, never a wrong answer). Cases that use an op qmap does not define
// are not applicable and only counted.
//
// Tolerance: |got - expected| <= 1e-5 + 1e-4 * |expected| for floats (the ONNX backend
// tests use rtol 1e-3, atol 1e-7; ours is tighter in relative terms except near zero,
// where float32 summation order differs between implementations); integers exactly.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "engine/float_engine.h"
#include "import/onnx/onnx_import.h"

namespace fs = std::filesystem;
using namespace qmap;

namespace {

// Cases of supported ops that qmap rejects on purpose, and why.
const std::map<std::string, std::string> kRejected = {
    {"test_cast_BFLOAT16_to_FLOAT", "bfloat16 tensors are not carried by the IR"},
    {"test_cast_DOUBLE_to_FLOAT16", "float16 tensors are not carried by the IR"},
    {"test_cast_FLOAT16_to_DOUBLE", "float16 tensors are not carried by the IR"},
    {"test_cast_FLOAT16_to_FLOAT", "float16 tensors are not carried by the IR"},
    {"test_cast_FLOAT_to_BFLOAT16", "bfloat16 tensors are not carried by the IR"},
    {"test_cast_FLOAT_to_FLOAT16", "float16 tensors are not carried by the IR"},
    {"test_cast_FLOAT_to_STRING", "string tensors are not carried by the IR"},
    {"test_cast_STRING_to_FLOAT", "string tensors are not carried by the IR"},
    {"test_max_float16", "float16 tensors are not carried by the IR"},
    {"test_max_int16", "int16 tensors are not carried by the IR"},
    {"test_max_uint16", "uint16 tensors are not carried by the IR"},
    {"test_max_uint32", "uint32 tensors are not carried by the IR"},
    {"test_max_uint64", "uint64 tensors are not carried by the IR"},
    {"test_pow_types_float32_uint32", "uint32 tensors are not carried by the IR"},
    {"test_pow_types_float32_uint64", "uint64 tensors are not carried by the IR"},
    // CastLike expanded into Cast ops: same dtype limits as Cast.
    {"test_castlike_BFLOAT16_to_FLOAT_expanded", "bfloat16 tensors are not carried by the IR"},
    {"test_castlike_DOUBLE_to_FLOAT16_expanded", "float16 tensors are not carried by the IR"},
    {"test_castlike_FLOAT16_to_DOUBLE_expanded", "float16 tensors are not carried by the IR"},
    {"test_castlike_FLOAT16_to_FLOAT_expanded", "float16 tensors are not carried by the IR"},
    {"test_castlike_FLOAT_to_BFLOAT16_expanded", "bfloat16 tensors are not carried by the IR"},
    {"test_castlike_FLOAT_to_FLOAT16_expanded", "float16 tensors are not carried by the IR"},
    {"test_castlike_FLOAT_to_STRING_expanded", "string tensors are not carried by the IR"},
    {"test_castlike_STRING_to_FLOAT_expanded", "string tensors are not carried by the IR"},
    {"test_batchnorm_epsilon_training_mode", "BatchNormalization training_mode=1 updates statistics: only inference is meaningful for conversion"},
    {"test_batchnorm_example_training_mode", "BatchNormalization training_mode=1 updates statistics: only inference is meaningful for conversion"},
    {"test_identity_opt", "optional-typed values are not carried by the IR (CNN models do not use them)"},
    {"test_identity_sequence", "sequence-typed values are not carried by the IR (CNN models do not use them)"},
    {"test_training_dropout", "Dropout in training mode drops at random: results would be nondeterministic"},
    {"test_training_dropout_default", "Dropout in training mode drops at random: results would be nondeterministic"},
    {"test_training_dropout_default_mask", "Dropout in training mode drops at random: results would be nondeterministic"},
    {"test_training_dropout_mask", "Dropout in training mode drops at random: results would be nondeterministic"},
};

struct Outcome {
  bool passed = false;
  std::string detail;
};

std::vector<fs::path> sorted_glob(const fs::path& dir, const std::string& prefix) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind(prefix, 0) == 0) out.push_back(e.path());
  std::sort(out.begin(), out.end(), [](const fs::path& a, const fs::path& b) {
    // input_10.pb after input_9.pb
    auto num = [](const fs::path& p) {
      std::string s = p.stem().string();
      return std::stoi(s.substr(s.find('_') + 1));
    };
    return num(a) < num(b);
  });
  return out;
}

std::string compare(const Tensor& got, const Tensor& want) {
  if (got.dtype() != want.dtype())
    return fmt::format("dtype {} != expected {}", dtype_name(got.dtype()), dtype_name(want.dtype()));
  if (got.dims() != want.dims())
    return fmt::format("shape {} != expected {}", dims_str(got.dims()), dims_str(want.dims()));
  const bool is_float = got.dtype() == DType::kFloat32 || got.dtype() == DType::kFloat64;
  auto a = got.to_double();
  auto b = want.to_double();
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) && std::isnan(b[i])) continue;
    const double tol = is_float ? 1e-5 + 1e-4 * std::fabs(b[i]) : 0.0;
    if (!(std::fabs(a[i] - b[i]) <= tol) && !(std::isinf(b[i]) && a[i] == b[i]))
      return fmt::format("value at flat index {}: got {} expected {}", i, a[i], b[i]);
  }
  return "";
}

// Returns nullopt when the case uses an op qmap does not define (not applicable).
std::optional<Outcome> run_case(const fs::path& dir) {
  Outcome o;
  std::vector<std::string> unsupported;
  OnnxImportOptions opt;
  opt.unsupported_ops = &unsupported;
  opt.require_static_shapes = false;  // some cases feed Resize sizes / Reshape shapes as inputs
  auto g = import_onnx((dir / "model.onnx").string(), opt);
  if (!g.ok()) {
    if (!unsupported.empty()) return std::nullopt;
    o.detail = g.status().message();
    return o;
  }
  auto engine = FloatEngine::create(*g);
  if (!engine.ok()) {
    o.detail = engine.status().message();
    return o;
  }
  for (const auto& set : sorted_glob(dir, "test_data_set_")) {
    std::vector<Tensor> inputs;
    for (const auto& p : sorted_glob(set, "input_")) {
      auto t = read_onnx_tensor(p.string());
      if (!t.ok()) { o.detail = t.status().message(); return o; }
      inputs.push_back(std::move(t).value());
    }
    auto outs = engine->run(inputs);
    if (!outs.ok()) { o.detail = outs.status().message(); return o; }
    const auto expected = sorted_glob(set, "output_");
    if (expected.size() != outs->size()) {
      o.detail = fmt::format("{} outputs, expected {}", outs->size(), expected.size());
      return o;
    }
    for (size_t i = 0; i < expected.size(); ++i) {
      auto want = read_onnx_tensor(expected[i].string());
      if (!want.ok()) { o.detail = want.status().message(); return o; }
      std::string diff = compare((*outs)[i], *want);
      if (!diff.empty()) {
        o.detail = fmt::format("{} output {}: {}", set.filename().string(), i, diff);
        return o;
      }
    }
  }
  o.passed = true;
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const fs::path root = argc > 1 ? argv[1] : "/usr/share/libonnx-testdata/data/node";
  const std::string filter = argc > 2 ? argv[2] : "";
  if (!fs::is_directory(root)) {
    std::fprintf(stderr, "onnx conformance: '%s' not found: install Debian's libonnx-testdata\n", root.c_str());
    return 2;
  }
  std::vector<fs::path> cases;
  for (const auto& e : fs::directory_iterator(root))
    if (e.is_directory() && e.path().filename().string().find(filter) != std::string::npos) cases.push_back(e.path());
  std::sort(cases.begin(), cases.end());
  int passed = 0, failed = 0, rejected = 0, not_applicable = 0;
  for (const auto& dir : cases) {
    const std::string name = dir.filename().string();
    auto r = run_case(dir);
    if (!r) { ++not_applicable; continue; }
    auto rej = kRejected.find(name);
    if (rej != kRejected.end()) {
      if (r->passed) {
        std::printf("FAIL %s: listed as rejected (%s) but it passes: remove it from the list\n", name.c_str(),
                    rej->second.c_str());
        ++failed;
      } else {
        std::printf("REJECTED %s: %s [error: %s]\n", name.c_str(), rej->second.c_str(), r->detail.c_str());
        ++rejected;
      }
      continue;
    }
    if (r->passed) {
      ++passed;
    } else {
      std::printf("FAIL %s: %s\n", name.c_str(), r->detail.c_str());
      ++failed;
    }
  }
  std::printf("onnx conformance: %d cases of supported ops, %d deliberately rejected, %d using ops qmap does not define\n",
              passed + failed + rejected, rejected, not_applicable);
  std::printf("%d passed, %d failed\n", passed + rejected, failed);
  return failed == 0 ? 0 : 1;
}
