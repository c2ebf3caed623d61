// float_vs_ort: qmap's float reference engine against ONNX Runtime (onnxruntime-node 1.30.0,
// CPU EP) on whole models, both at 1 thread, measured in the same run (DESIGN.md §6).
//
// For each model: import_onnx, one seeded random input set (uniform [-1, 1), seed 20240601),
// check agreement (max |diff| over each output <= tol * ORT output range), then time
// FloatEngine::run (median of --runs after --warmup, wall clock) and ORT through
// tools/ort/ort_run.js --time (same counts, one session, run timed inside node).
// Prints: model | qmap ms | ORT ms | ratio (qmap / ORT), medians | the same for the minimum
// (less sensitive to other load on a shared machine) | max diff / range over the outputs.
//
// usage: float_vs_ort [--runs N] [--warmup N] [--tol X] [MODEL.onnx | DIR ...]
//   default models: <build>/models/{mobilenet_v2,resnet18,resnet50,squeezenet1_1,
//   shufflenet_v2_x1_0,mobilenet_v3_small}.onnx (tools/models/export_torchvision.py), plus
//   ../shared/models/onnx/mobilenetv2-12-float.onnx beside the source tree when present.
//   A DIR argument means every *.onnx in it.
// Exit status 1 when a model fails to run or disagrees with ORT, so scripts notice.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "engine/float_engine.h"
#include "import/onnx/onnx_import.h"
#include "ort_peer.h"
#include "bench_stats.h"

extern "C" void openblas_set_num_threads(int);  // OpenBLAS: the float engine's sgemm

namespace {

namespace fs = std::filesystem;
using namespace qmap;

constexpr uint32_t kSeed = 20240601;
const char* const kTorchvisionModels[] = {"mobilenet_v2",  "resnet18",           "resnet50",
                                          "squeezenet1_1", "shufflenet_v2_x1_0", "mobilenet_v3_small"};

struct Options {
  int runs = 20;
  int warmup = 3;
  double tol = 1e-4;
  std::vector<std::string> models;
};

[[noreturn]] void usage_error(const std::string& msg) {
  std::fprintf(stderr, "float_vs_ort: %s\nusage: float_vs_ort [--runs N] [--warmup N] [--tol X] "
                       "[MODEL.onnx | DIR ...]\n", msg.c_str());
  std::exit(2);
}

int parse_int(const char* v, const char* opt, int min) {
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  if (end == v || *end != '\0' || x < min) usage_error(fmt::format("{}: bad value '{}': need an integer >= {}", opt, v, min));
  return static_cast<int>(x);
}

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) usage_error(a + ": missing value");
      return argv[++i];
    };
    if (a == "--runs") o.runs = parse_int(value(), "--runs", 1);
    else if (a == "--warmup") o.warmup = parse_int(value(), "--warmup", 0);
    else if (a == "--tol") o.tol = std::atof(value());
    else if (a == "-h" || a == "--help") usage_error("help");
    else if (a.rfind("--", 0) == 0) usage_error("unknown option " + a);
    else if (fs::is_directory(a)) {
      std::vector<std::string> found;
      for (const auto& e : fs::directory_iterator(a))
        if (e.path().extension() == ".onnx") found.push_back(e.path().string());
      std::sort(found.begin(), found.end());
      o.models.insert(o.models.end(), found.begin(), found.end());
    } else {
      o.models.push_back(a);
    }
  }
  if (o.models.empty()) {
    for (const char* m : kTorchvisionModels)
      o.models.push_back(std::string(QMAP_BINARY_DIR) + "/models/" + m + ".onnx");
    const std::string shared = std::string(QMAP_SOURCE_DIR) + "/../shared/models/onnx/mobilenetv2-12-float.onnx";
    if (fs::exists(shared)) o.models.push_back(fs::weakly_canonical(shared).string());
  }
  return o;
}

std::string cpu_name() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown CPU";
}

struct Row {
  std::string model;
  double qmap_ms = NAN, ort_ms = NAN, diff_ratio = NAN;
  double qmap_min = NAN, ort_min = NAN;  // less sensitive to other load on a shared machine
  bool agree = false;
  std::string error;
};

Row bench_one(const std::string& path, const Options& opt) {
  Row row;
  row.model = fs::path(path).stem().string();
  // On a qmap failure ORT is still timed (on its own random inputs) so the table shows
  // where the peer stands.
  auto fail = [&](const Status& s) {
    row.error = s.message();
    if (fs::exists(path) && std::isnan(row.ort_ms)) {
      if (auto t = ort_peer::time(ort_peer::default_peer(), path, {}, 1, opt.runs, opt.warmup); t.ok())
        row.ort_ms = t->median_ms;
    }
    return row;
  };
  if (!fs::exists(path)) return fail(Status::error(fmt::format("'{}' not found (run bench/run_float_vs_ort.sh, which exports it)", path)));

  auto graph = import_onnx(path);
  if (!graph.ok()) return fail(graph.status());
  std::vector<ort_peer::NamedTensor> inputs;
  std::vector<Tensor> tensors;
  for (size_t i = 0; i < graph->inputs.size(); ++i) {
    const Value& v = graph->value(graph->inputs[i]);
    Dims dims = v.dims.value_or(Dims{});
    for (auto& d : dims) d = d < 0 ? 1 : d;
    inputs.push_back({v.name, ort_peer::random_input(v.dtype, dims, kSeed + static_cast<uint32_t>(i))});
    tensors.push_back(inputs.back().tensor);
  }
  const auto peer = ort_peer::default_peer();

  // Agreement, on the same inputs as the timing.
  auto expected = ort_peer::run(peer, path, inputs, 1);
  if (!expected.ok()) return fail(expected.status());
  auto engine = FloatEngine::create(*graph);
  if (!engine.ok()) return fail(engine.status());
  auto outs = engine->run(tensors);
  if (!outs.ok()) return fail(outs.status());
  if (outs->size() != expected->size())
    return fail(Status::error(fmt::format("{} outputs, ORT has {}", outs->size(), expected->size())));
  row.agree = true;
  row.diff_ratio = 0;
  for (size_t i = 0; i < outs->size(); ++i) {
    const Tensor a = (*outs)[i].dtype() == DType::kFloat32 ? (*outs)[i] : cast_tensor((*outs)[i], DType::kFloat32);
    const auto d = ort_peer::compare(a, (*expected)[i].tensor);
    row.diff_ratio = std::max(row.diff_ratio, d.dims_match ? d.ratio() : INFINITY);
    row.agree = row.agree && d.ok(opt.tol);
  }

  // qmap timing: the engine built once, like an ORT session.
  for (int i = 0; i < opt.warmup; ++i) {
    if (auto r = engine->run(tensors); !r.ok()) return fail(r.status());
  }
  std::vector<double> ts;
  for (int i = 0; i < opt.runs; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = engine->run(tensors);
    const auto t1 = std::chrono::steady_clock::now();
    if (!r.ok()) return fail(r.status());
    ts.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  row.qmap_ms = median(ts);
  row.qmap_min = *std::min_element(ts.begin(), ts.end());

  auto ort_t = ort_peer::time(peer, path, inputs, 1, opt.runs, opt.warmup);
  if (!ort_t.ok()) return fail(ort_t.status());
  row.ort_ms = ort_t->median_ms;
  row.ort_min = ort_t->min_ms;
  return row;
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse_args(argc, argv);
  openblas_set_num_threads(1);  // 1 thread, as ORT's intra-op pool (OPENBLAS_NUM_THREADS=1 too)

  auto version = ort_peer::check_available(ort_peer::default_peer());
  if (!version.ok()) {
    std::fprintf(stderr, "float_vs_ort: %s\n", version.status().message().c_str());
    return 1;
  }
  std::printf("float_vs_ort: qmap FloatEngine vs onnxruntime-node %s (CPU EP), 1 thread, median of %d runs "
              "after %d warm-up; %s\n", version->c_str(), opt.runs, opt.warmup, cpu_name().c_str());
  std::printf("%-22s %9s %9s %7s | %9s %9s %7s | %13s\n", "model", "qmap ms", "ORT ms", "ratio", "qmap min",
              "ORT min", "ratio", "maxdiff/range");
  std::fflush(stdout);

  int failures = 0;
  double log_sum = 0, log_sum_min = 0;
  int n_ratio = 0;
  for (const auto& m : opt.models) {
    const Row r = bench_one(m, opt);
    if (!r.error.empty()) {
      const std::string ort = std::isnan(r.ort_ms) ? "-" : fmt::format("{:.2f}", r.ort_ms);
      std::printf("%-22s %9s %9s %7s | %9s %9s %7s | %13s  FAILED: %s\n", r.model.c_str(), "-", ort.c_str(), "-",
                  "-", "-", "-", "-", r.error.c_str());
      ++failures;
    } else {
      const double ratio = r.qmap_ms / r.ort_ms;
      std::printf("%-22s %9.2f %9.2f %6.2fx | %9.2f %9.2f %6.2fx | %13.2e  %s\n", r.model.c_str(), r.qmap_ms,
                  r.ort_ms, ratio, r.qmap_min, r.ort_min, r.qmap_min / r.ort_min, r.diff_ratio,
                  r.agree ? "agree" : fmt::format("DISAGREE (tol {:g})", opt.tol).c_str());
      if (!r.agree) ++failures;
      log_sum += std::log(ratio);
      log_sum_min += std::log(r.qmap_min / r.ort_min);
      ++n_ratio;
    }
    std::fflush(stdout);
  }
  if (n_ratio > 0)
    std::printf("geometric mean ratio (qmap / ORT) over %d models: %.2fx (medians), %.2fx (minimums)\n", n_ratio,
                std::exp(log_sum / n_ratio), std::exp(log_sum_min / n_ratio));
  return failures ? 1 : 0;
}
