// int8_vs_ort: qmap's int8 runtime (the .bin through libqmap_runtime's C++ API) against ONNX
// Runtime (onnxruntime-node 1.30.0, CPU EP) on the same quantized model and on the float
// model, at each thread count, measured in the same run; then ResNet-50's convolutions one by
// one against this core's int8 peak, measured by a probe in the same run (src/report/host_probe.cpp).
// bench/run_int8_vs_ort.sh exports and converts the models and runs this.
//
// For each model folder (makertbin's working_dir, see "Model folders"):
//   - one input set: DIR/input.bin when present (raw bytes of the .bin's first input), else
//     seeded random (tools/ort/ort_peer.h random_input, seed 20240601); the same tensors feed
//     the .bin, ORT on <name>_quantized_model.onnx ("ORT int8") and ORT on the float model;
//   - agreement, at 1 thread: max |.bin - ORT int8| over each output / ORT's output range
//     (also in 8-bit steps of that range, range / 255), the same against ORT float, top-1
//     equality, and whether the .bin's outputs at every thread count equal its 1-thread ones.
//     Reported, never fatal;
//   - per thread count: the .bin (qmap::rt::Context with ContextOptions{.threads = N}, set_input
//     once, Context::run timed), ORT int8 and ORT float (tools/ort/ort_run.js --time, intra-op
//     N threads, one session, timed inside node): median and min ms of --runs after --warmup,
//     measured in turn in --rounds rounds (each a share of the runs; default 3) whose runs are
//     pooled, so a change in the machine's speed during the measurement hits all three.
//     The .bin stops early once one measurement passed --max-time seconds (at least 2 runs),
//     so a slow runtime stays bounded; the table shows the run count. With --isas LIST the
//     .bin is also loaded with each listed kernel level (LoadOptions::isa) and timed right
//     after the default level's runs, with a check that its outputs equal the default level's
//     (a table of its own: each level against ORT int8 of the same run, and against the first).
// Ratios .bin / ORT int8 and .bin / ORT float per model and thread count, and their geometric
// mean over the six torchvision models (those present). "per round" is the range of the
// rounds' own .bin / ORT int8 ratios (each round's medians): what one shorter measurement
// could have reported on this machine in that minute.
//
// Per-layer table (--layers NAME, default resnet50): every kConv / kConvFloatOut step of that
// .bin (format/bin_reader.h: IntProgram), as kernels::QConvParams, run alone on a random
// 8-bit input on one thread (SerialRunner) through the kernel the ISA's factory makes
// (make_qconv_avx512vnni / make_qconv_avxvnni / make_qconv_avx2, kernels/qconv_kernel.h) or the reference
// (kernels/ref/qconv.h) when the ISA is ref, the factory declines, or this build has no fast
// kernels (the CMake target qmap_kernels). Median µs of up to --layer-runs runs within
// --layer-time s; GMAC/s = MACs / time; % of peak against the single-core AVX-512 VNNI peak
// (vpdpbusd zmm) when the CPU has VNNI, else the AVX2 vpmaddwd peak, probed before and after
// the per-layer timings (the best of both: the machine may be shared). Totals for 3x3, 1x1,
// fully connected and other kernels, all convolutions (sum of MACs / sum of times), and the
// whole network from the .bin's measured latency (all conv MACs / latency).
// When built with oneDNN (Debian's libdnnl-dev; bench/CMakeLists.txt finds it), each layer is
// also timed through oneDNN's int8 convolution as a peer (--no-onednn: not), see dnnl_conv_us.
//
// Kernel ISA: QMAP_ISA=ref|avx2|avxvnni|avx512vnni selects the runtime's kernels (and the per-layer
// ones here); unset = the best this CPU has. Printed as given.
//
// Output: progress on stderr; the results as Markdown tables on stdout (for the README), with
// the load average at the start and the end (timings on a shared machine vary with it).
//
// The 1-thread rows hold this thread and the node processes it spawns on one CPU (--no-pin:
// not), so that the .bin and ORT run on the same core (PinToOneCpu says why).
//
// --layer-threads N (N > 1) adds three columns to the per-layer table: each convolution on an
// N-thread intra-op pool (core/spin_pool.h, as a Context runs it) with its input hot, with its
// input just written by the N workers (a contiguous share each, the element-wise steps' split,
// so each core reads lines the others hold), and with that and every cache flushed before each
// run. A network's convolutions run between the last two: this tells how much of its thread
// scaling the layers lose to where their data lies rather than to their own work.
//
// usage: int8_vs_ort [--runs N] [--rounds N] [--warmup N] [--threads "1 2"] [--max-time S] [--layers NAME|none]
//                    [--layer-runs N] [--layer-time S] [--layer-threads N] [--peak-time S] [--no-onednn]
//                    [--isas LIST] [--no-pin] MODEL_DIR...
// Model folders: DIR/<name>.bin and DIR/<name>_quantized_model.onnx where <name> is the folder's
// name; the float model is DIR/float.onnx (the script links the exported model there) or else
// DIR/<name>_original_float_model.onnx.
// Exit status 1 when a model fails to load or run (not for disagreement), 2 for bad usage.
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "program/bin_reader.h"
#include "kernels/parallel.h"
#include "kernels/pool_runner.h"
#include "kernels/qconv_kernel.h"
#include "kernels/ref/qconv.h"
#include "ort_peer.h"
#include "qmap/runtime.h"
#include "program/int_program.h"
#include "report/host_probe.h"
#if QMAP_BENCH_HAS_KERNELS
#include "kernels/isa.h"
#endif
#if QMAP_BENCH_HAS_DNNL
#include <dlfcn.h>

#include <oneapi/dnnl/dnnl.hpp>
#include "bench_stats.h"
#endif

namespace {

namespace fs = std::filesystem;
using namespace qmap;
using Clock = std::chrono::steady_clock;

constexpr uint32_t kSeed = 20240601;
const char* const kTorchvisionModels[] = {"mobilenet_v2",  "resnet18",           "resnet50",
                                          "squeezenet1_1", "shufflenet_v2_x1_0", "mobilenet_v3_small"};
const char* const kUsage =
    "usage: int8_vs_ort [--runs N] [--rounds N] [--warmup N] [--threads \"1 2\"] [--max-time S] [--layers NAME|none]\n"
    "                   [--layer-runs N] [--layer-time S] [--layer-threads N] [--peak-time S] [--no-onednn]\n"
    "                   [--isas \"avx2 avxvnni\"] [--no-pin] MODEL_DIR...\n"
    "  --isas LIST: also time each .bin with each of these kernel levels, in the same run (a table of its own)\n"
    "  --layer-threads N: the per-layer table also times each convolution on N threads (hot, input just\n"
    "    written by the workers, caches flushed)\n"
    "  --no-pin: do not hold the 1-thread measurements (the .bin and ORT's node) on one CPU\n"
    "  MODEL_DIR: makertbin's working_dir for one model, named after it: <name>.bin,\n"
    "  <name>_quantized_model.onnx, float.onnx (or <name>_original_float_model.onnx), input.bin (optional)\n";

struct Options {
  int runs = 20;
  int warmup = 3;
  int rounds = 3;  // the .bin, ORT int8 and ORT float measured in turn, this many times
  std::vector<int> threads = {1, 2};
  double max_time = 20;  // seconds per .bin measurement
  std::string layers = "resnet50";
  int layer_runs = 20;
  double layer_time = 0.3;
  int layer_threads = 1;  // --layer-threads N > 1: each layer also timed on N threads
  double peak_time = 0.25;
  bool onednn = true;
  bool pin = true;  // 1-thread measurements on one CPU (--no-pin: wherever the scheduler puts them)
  std::vector<std::string> isas;  // --isas: kernel levels each .bin is also timed with
  std::vector<std::string> dirs;
};

// "a b,c" -> {"a", "b", "c"}.
std::vector<std::string> split_list(std::string v) {
  std::replace(v.begin(), v.end(), ',', ' ');
  std::vector<std::string> out;
  size_t p = 0;
  while (p < v.size()) {
    const size_t q = v.find(' ', p);
    const std::string t = v.substr(p, q == std::string::npos ? std::string::npos : q - p);
    if (!t.empty()) out.push_back(t);
    if (q == std::string::npos) break;
    p = q + 1;
  }
  return out;
}

[[noreturn]] void usage_error(const std::string& msg) {
  std::fprintf(stderr, "int8_vs_ort: %s\n%s", msg.c_str(), kUsage);
  std::exit(2);
}

int parse_int(const std::string& v, const std::string& opt, int min) {
  char* end = nullptr;
  const long x = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || x < min) usage_error(fmt::format("{}: bad value '{}': need an integer >= {}", opt, v, min));
  return static_cast<int>(x);
}

double parse_seconds(const std::string& v, const std::string& opt) {
  char* end = nullptr;
  const double x = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || !(x > 0)) usage_error(fmt::format("{}: bad value '{}': need seconds > 0", opt, v));
  return x;
}

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage_error(a + ": missing value");
      return argv[++i];
    };
    if (a == "--runs") o.runs = parse_int(value(), a, 1);
    else if (a == "--rounds") o.rounds = parse_int(value(), a, 1);
    else if (a == "--warmup") o.warmup = parse_int(value(), a, 0);
    else if (a == "--max-time") o.max_time = parse_seconds(value(), a);
    else if (a == "--layers") o.layers = value();
    else if (a == "--layer-runs") o.layer_runs = parse_int(value(), a, 1);
    else if (a == "--layer-time") o.layer_time = parse_seconds(value(), a);
    else if (a == "--layer-threads") o.layer_threads = parse_int(value(), a, 1);
    else if (a == "--peak-time") o.peak_time = parse_seconds(value(), a);
    else if (a == "--no-onednn") o.onednn = false;
    else if (a == "--no-pin") o.pin = false;
    else if (a == "--isas") {
      o.isas = split_list(value());
      if (o.isas.empty()) usage_error("--isas: no kernel level given");
    } else if (a == "--threads") {
      o.threads.clear();
      for (const std::string& t : split_list(value())) o.threads.push_back(parse_int(t, "--threads", 1));
      if (o.threads.empty()) usage_error("--threads: no thread count given");
    } else if (a == "-h" || a == "--help") {
      std::printf("%s", kUsage);
      std::exit(0);
    } else if (a.rfind("--", 0) == 0) usage_error("unknown option " + a);
    else o.dirs.push_back(a);
  }
  if (o.dirs.empty()) usage_error("no model folder given");
  return o;
}

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

std::string cpu_name() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown CPU";
}

std::string load_average() {
  std::ifstream f("/proc/loadavg");
  std::string a;
  return f >> a ? a : "?";
}

// Holds the calling thread (and the node processes it spawns, which inherit its mask) on the
// first CPU it may run on, for one scope; restores the mask after. The 1-thread rows then
// time the .bin and ONNX Runtime on the same core: on the development VM one of the two
// vCPUs ran ResNet-50 17% slower than the other for minutes at a time (2026-12-07 21:40 UTC),
// and the .bin and a node process landing on different ones moved the ratio by as much.
class PinToOneCpu {
 public:
  explicit PinToOneCpu(bool on) {
    if (!on || sched_getaffinity(0, sizeof(old_), &old_) != 0) return;
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &old_)) {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(c, &one);
        if (sched_setaffinity(0, sizeof(one), &one) == 0) cpu_ = c;
        break;
      }
  }
  ~PinToOneCpu() {
    if (cpu_ >= 0) sched_setaffinity(0, sizeof(old_), &old_);
  }
  PinToOneCpu(const PinToOneCpu&) = delete;
  PinToOneCpu& operator=(const PinToOneCpu&) = delete;
  int cpu() const { return cpu_; }  // -1: not pinned

 private:
  cpu_set_t old_{};
  int cpu_ = -1;
};

void progress(const std::string& s) {
  std::fprintf(stderr, "int8_vs_ort: %s\n", s.c_str());
  std::fflush(stderr);
}

bool is_torchvision(const std::string& name) {
  return std::find_if(std::begin(kTorchvisionModels), std::end(kTorchvisionModels),
                      [&](const char* m) { return name == m; }) != std::end(kTorchvisionModels);
}

// --- kernel ISA ---

const char* env_isa() {
  const char* v = std::getenv("QMAP_ISA");
  return v && *v ? v : nullptr;
}

// The level the per-layer table runs: QMAP_ISA, else the best this CPU (and build) has.
// Without the fast kernels in this build only the reference can run.
std::string layer_isa(std::string* note) {
#if QMAP_BENCH_HAS_KERNELS
  if (const char* v = env_isa()) {
    kernels::Isa isa;
    std::string err;
    if (kernels::parse_isa(v, &isa, &err)) return kernels::isa_name(isa);
    *note = err + "; using the reference";
    return "ref";
  }
  return kernels::isa_name(kernels::best_host_isa());
#else
  *note = "this build has no fast kernels (no CMake target qmap_kernels): the reference runs";
  return "ref";
#endif
}

std::string cpu_best_isa() {
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
    return "avx512vnni";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return __builtin_cpu_supports("avxvnni") ? "avxvnni" : "avx2";
#endif
  return "ref";
}

// --- timing ---

struct Stats {
  double median = NAN, min = NAN;
  int n = 0;
  std::vector<double> times;  // every timed run (ms)
};

Stats stats_of(std::vector<double> ts) {
  Stats s;
  if (ts.empty()) return s;
  s.median = median(ts);
  s.min = *std::min_element(ts.begin(), ts.end());
  s.n = static_cast<int>(ts.size());
  s.times = std::move(ts);
  return s;
}

// The runs of several measurements as one.
Stats pooled(const std::vector<Stats>& parts) {
  std::vector<double> all;
  for (const Stats& p : parts) all.insert(all.end(), p.times.begin(), p.times.end());
  return stats_of(std::move(all));
}

// Runs f `warmup` times, then up to `runs` timed runs; stops early (after at least 2 timed
// runs, or 1 when runs == 1) once `max_s` seconds of timed runs passed, and keeps the
// warm-up under max_s / 2 too (at least one warm-up run when warmup > 0).
// `setup`, when given, runs before every run of f, untimed.
Stats time_runs(const std::function<void()>& f, int runs, int warmup, double max_s,
                const std::function<void()>& setup = nullptr) {
  const auto w0 = Clock::now();
  for (int i = 0; i < warmup; ++i) {
    if (setup) setup();
    f();
    if (ms_since(w0) > max_s * 500) break;
  }
  std::vector<double> ts;
  double total = 0;
  for (int i = 0; i < runs; ++i) {
    if (setup) setup();
    const auto t0 = Clock::now();
    f();
    ts.push_back(ms_since(t0));
    total += ts.back();
    if (total > max_s * 1000 && ts.size() >= 2) break;
  }
  return stats_of(std::move(ts));
}

// --- one model ---

struct ModelFiles {
  std::string name, bin, qonnx, fonnx, input;
};

Result<ModelFiles> find_files(const std::string& dir) {
  ModelFiles f;
  const fs::path d = fs::path(dir);
  f.name = d.filename().empty() ? d.parent_path().filename().string() : d.filename().string();
  f.bin = (d / (f.name + ".bin")).string();
  f.qonnx = (d / (f.name + "_quantized_model.onnx")).string();
  f.fonnx = fs::exists(d / "float.onnx") ? (d / "float.onnx").string()
                                         : (d / (f.name + "_original_float_model.onnx")).string();
  if (fs::exists(d / "input.bin")) f.input = (d / "input.bin").string();
  for (const auto& p : {f.bin, f.qonnx, f.fonnx})
    if (!fs::exists(p)) return Status::error(fmt::format("'{}' not found (bench/run_int8_vs_ort.sh makes it)", p));
  return f;
}

struct ThreadRow {
  int threads = 1;
  Stats bin, ort_q, ort_f;
  // Each round's .bin median over its ORT int8 median: how far one round's ratio (what a
  // shorter benchmark would report) moves with the machine.
  std::vector<double> round_ratios;
  int pinned_cpu = -1;  // the CPU the .bin and ORT ran on (1 thread, --no-pin not given), or -1
  bool same_as_1thread = true;
  std::vector<Stats> bin_isa;      // per --isas level, in order: the .bin loaded with that level
  std::vector<bool> isa_same;      // its outputs equal the default level's (every level is bit-exact)
  std::string error;
};

struct OutputAgreement {
  std::string name;
  double q_ratio = NAN, f_ratio = NAN;  // max |diff| / ORT range
  int top1_q = -1, top1_f = -1;         // 1 equal, 0 different, -1 not a classifier output
};

struct ModelRow {
  std::string name;
  std::string input_desc;
  Stats load;            // Model::load of the .bin (map, check, adopt packed weights or pack), file in the page cache
  Stats load_first_run;  // Model::load, a 1-thread Context and its first run: what a mapped file's page faults add
  uint64_t bin_bytes = 0;
  std::vector<OutputAgreement> outputs;
  std::vector<ThreadRow> rows;
  std::string error;
};

Tensor to_tensor(const std::vector<float>& v, const std::vector<int64_t>& dims) {
  Tensor t(DType::kFloat32, Dims(dims.begin(), dims.end()));
  std::copy(v.begin(), v.end(), t.data<float>().begin());
  return t;
}

int argmax(std::span<const float> v) {
  return static_cast<int>(std::max_element(v.begin(), v.end()) - v.begin());
}

Result<std::vector<ort_peer::NamedTensor>> make_inputs(const rt::Model& model, const ModelFiles& f, std::string* desc) {
  std::vector<ort_peer::NamedTensor> inputs;
  for (size_t i = 0; i < model.inputs().size(); ++i) {
    const rt::TensorDesc& d = model.inputs()[i];
    const Dims dims(d.dims.begin(), d.dims.end());
    const DType dt = static_cast<DType>(static_cast<int32_t>(d.dtype));
    if (d.input_bytes() != d.bytes())
      return Status::error(fmt::format("input '{}': {} runtime input: only inputs fed as their tensor are supported",
                                       d.name, rt::color_type_name(d.color)));
    Tensor t;
    if (i == 0 && !f.input.empty()) {
      std::ifstream in(f.input, std::ios::binary);
      std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (bytes.size() != d.bytes())
        return Status::error(fmt::format("'{}': {} bytes, input '{}' ({} {}) needs {}", f.input, bytes.size(), d.name,
                                         rt::elem_type_name(d.dtype), fmt::join(d.dims, "x"), d.bytes()));
      t = Tensor(dt, dims);
      std::memcpy(t.raw(), bytes.data(), bytes.size());
    } else {
      t = ort_peer::random_input(dt, dims, kSeed + static_cast<uint32_t>(i));
    }
    *desc += fmt::format("{}'{}' {} {} {} ({})", desc->empty() ? "" : ", ", d.name, rt::color_type_name(d.color),
                         rt::elem_type_name(d.dtype), fmt::join(d.dims, "x"),
                         i == 0 && !f.input.empty() ? "input.bin" : "random");
    inputs.push_back({d.name, std::move(t)});
  }
  return inputs;
}

void set_inputs(rt::Context& ctx, const std::vector<ort_peer::NamedTensor>& inputs) {
  for (size_t i = 0; i < inputs.size(); ++i) ctx.set_input(i, inputs[i].tensor.raw(), inputs[i].tensor.nbytes());
}

std::vector<std::vector<float>> read_outputs(const rt::Context& ctx, size_t n) {
  std::vector<std::vector<float>> out;
  for (size_t i = 0; i < n; ++i) out.push_back(ctx.output_float(i));
  return out;
}

ModelRow bench_model(const std::string& dir, const Options& opt, const ort_peer::Peer& peer) {
  ModelRow row;
  row.name = fs::path(dir).filename().string();
  auto files = find_files(dir);
  if (!files.ok()) {
    row.error = files.status().message();
    return row;
  }
  const ModelFiles& f = *files;
  row.name = f.name;
  try {
    progress(fmt::format("{}: load", f.name));
    row.bin_bytes = fs::file_size(f.bin);
    row.load = time_runs([&] { rt::Model::load(f.bin); }, opt.runs, 1, opt.max_time);
    const rt::Model model = rt::Model::load(f.bin);
    auto inputs = make_inputs(model, f, &row.input_desc);
    if (!inputs.ok()) {
      row.error = inputs.status().message();
      return row;
    }
    const size_t n_out = model.outputs().size();
    row.load_first_run = time_runs(
        [&] {
          const rt::Model m = rt::Model::load(f.bin);
          rt::Context c(m, rt::ContextOptions{.threads = 1});
          set_inputs(c, *inputs);
          c.run();
        },
        opt.runs, 1, opt.max_time);

    // Agreement at 1 thread.
    rt::Context ctx1(model, rt::ContextOptions{.threads = 1});
    set_inputs(ctx1, *inputs);
    ctx1.run();
    const auto ref = read_outputs(ctx1, n_out);
    auto ort_q = ort_peer::run(peer, f.qonnx, *inputs, 1);
    if (!ort_q.ok()) {
      row.error = "ORT int8: " + ort_q.status().message();
      return row;
    }
    auto ort_f = ort_peer::run(peer, f.fonnx, *inputs, 1);
    if (!ort_f.ok()) {
      row.error = "ORT float: " + ort_f.status().message();
      return row;
    }
    for (size_t i = 0; i < n_out; ++i) {
      OutputAgreement a;
      a.name = model.outputs()[i].name;
      const Tensor mine = to_tensor(ref[i], model.outputs()[i].dims);
      const bool classifier = mine.numel() >= 10 && mine.dims().size() == 2 && mine.dims()[0] == 1;
      auto cmp = [&](const std::vector<ort_peer::NamedTensor>& theirs, double* ratio, int* top1) {
        if (i >= theirs.size()) return;
        const ort_peer::Diff d = ort_peer::compare(mine, theirs[i].tensor);
        *ratio = d.dims_match ? d.ratio() : INFINITY;
        if (classifier && d.dims_match)
          *top1 = argmax(mine.data<float>()) == argmax(theirs[i].tensor.data<float>()) ? 1 : 0;
      };
      cmp(*ort_q, &a.q_ratio, &a.top1_q);
      cmp(*ort_f, &a.f_ratio, &a.top1_f);
      row.outputs.push_back(a);
    }

    for (int threads : opt.threads) {
      ThreadRow tr;
      tr.threads = threads;
      const PinToOneCpu pin(opt.pin && threads == 1);
      tr.pinned_cpu = pin.cpu();
      progress(fmt::format("{}: {} thread(s): .bin", f.name, threads));
      rt::Context ctx(model, rt::ContextOptions{.threads = threads});
      set_inputs(ctx, *inputs);
      // In turn, --rounds times: the .bin, ORT int8, ORT float, each a share of --runs; the
      // statistics pool each one's runs. A drift of the machine's speed (this VM's moves by up
      // to 20% from minute to minute) then falls on all three alike instead of on one of them.
      const int per_round = (opt.runs + opt.rounds - 1) / opt.rounds;
      std::vector<Stats> bin_parts, q_parts, f_parts;
      // One ORT measurement of this round; its first error is reported once.
      auto ort_round = [&](const std::string& onnx, const std::string& label, std::vector<Stats>& parts) {
        if (auto t = ort_peer::time(peer, onnx, *inputs, threads, per_round, opt.warmup); t.ok())
          parts.push_back(stats_of(t->times_ms));
        else if (tr.error.find(label) == std::string::npos)
          tr.error += label + ": " + t.status().message() + " ";
      };
      for (int round = 0; round < opt.rounds; ++round) {
        progress(fmt::format("{}: {} thread(s): round {} of {}", f.name, threads, round + 1, opt.rounds));
        bin_parts.push_back(time_runs([&] { ctx.run(); }, per_round, round == 0 ? opt.warmup : 1,
                                      opt.max_time / opt.rounds));
        ort_round(f.qonnx, "ORT int8", q_parts);
        ort_round(f.fonnx, "ORT float", f_parts);
      }
      for (size_t r = 0; r < bin_parts.size() && r < q_parts.size(); ++r)
        tr.round_ratios.push_back(bin_parts[r].median / q_parts[r].median);
      tr.bin = pooled(bin_parts);
      tr.ort_q = pooled(q_parts);
      tr.ort_f = pooled(f_parts);
      tr.same_as_1thread = read_outputs(ctx, n_out) == ref;
      // The same .bin with each --isas level, right after the default level's runs.
      for (const std::string& isa : opt.isas) {
        progress(fmt::format("{}: {} thread(s): .bin with QMAP_ISA={}", f.name, threads, isa));
        const rt::Model mi = rt::Model::load(f.bin, rt::LoadOptions{.isa = isa});
        rt::Context ci(mi, rt::ContextOptions{.threads = threads});
        set_inputs(ci, *inputs);
        tr.bin_isa.push_back(time_runs([&] { ci.run(); }, opt.runs, opt.warmup, opt.max_time));
        tr.isa_same.push_back(read_outputs(ci, n_out) == ref);
      }
      row.rows.push_back(tr);
    }
  } catch (const rt::Error& e) {
    row.error = e.what();
  }
  return row;
}

// --- per-layer convolutions ---

struct LayerRow {
  std::string node, shape, kernel;
  int64_t kh = 1, kw = 1;
  bool fc = false;  // a 1x1 over a 1x1 map: Gemm / MatMul
  double macs = 0;
  double us = NAN;
  // --layer-threads N: the same convolution on an N-thread pool, its input and weights hot;
  // with its input just written by the N workers (a contiguous share each, as the element-wise
  // steps split); and with that and the caches flushed (64 MB read) before each run.
  double us_threads = NAN, us_threads_written = NAN, us_threads_flushed = NAN;
  double dnnl_us = NAN;  // oneDNN's time for the same convolution (when built with it)
  std::string dnnl_impl;
};

struct AlignedBuffer {
  std::unique_ptr<std::byte[]> mem;
  std::byte* p = nullptr;
  explicit AlignedBuffer(size_t bytes) : mem(new std::byte[bytes + 64]) {
    p = reinterpret_cast<std::byte*>((reinterpret_cast<uintptr_t>(mem.get()) + 63) / 64 * 64);
  }
};

std::string conv_shape(const kernels::ref::ConvGeometry2d& g) {
  std::string s = fmt::format("{}->{} {}x{} s{} {}x{}", g.c, g.m, g.kh, g.kw, g.stride_h, g.oh, g.ow);
  if (g.group > 1) s += g.group == g.c && g.group == g.m ? " dw" : fmt::format(" g{}", g.group);
  return s;
}

#if QMAP_BENCH_HAS_DNNL
// oneDNN as a per-layer peer: the same convolution (8-bit source of the step's signedness,
// s8 weights, s32 bias, per-channel output scales, a Relu post-op when the step clamps above
// the type's minimum, u8/s8 or f32 destination), every memory in the layout oneDNN prefers
// (format_tag::any: no reorders are timed), one thread. The input zero point is left out: a
// kernel that folds it into the bias, as qmap's do, pays nothing for it.
// Returns NaN (and the reason in *impl) when oneDNN cannot build the primitive.
double dnnl_conv_us(const kernels::QConvParams& p, const Options& opt, std::string* impl) {
  using namespace dnnl;
  using dt = memory::data_type;
  using tag = memory::format_tag;
  try {
    static engine eng(engine::kind::cpu, 0);
    static stream strm(eng);
    const auto& g = p.g;
    const memory::dims src_d = {g.n, g.c, g.h, g.w}, dst_d = {g.n, g.m, g.oh, g.ow};
    const memory::dims wei_d = g.group > 1 ? memory::dims{g.group, g.m / g.group, g.c / g.group, g.kh, g.kw}
                                           : memory::dims{g.m, g.c, g.kh, g.kw};
    const memory::dims strides = {g.stride_h, g.stride_w}, dil = {g.dil_h - 1, g.dil_w - 1};
    const memory::dims pad_l = {g.pad_top, g.pad_left};
    const memory::dims pad_r = {(g.oh - 1) * g.stride_h + (g.kh - 1) * g.dil_h + 1 - g.h - g.pad_top,
                                (g.ow - 1) * g.stride_w + (g.kw - 1) * g.dil_w + 1 - g.w - g.pad_left};
    const memory::desc src_md(src_d, p.x_signed ? dt::s8 : dt::u8, tag::any);
    const memory::desc wei_md(wei_d, dt::s8, tag::any);
    const memory::desc bias_md = p.bias.empty() ? memory::desc() : memory::desc({g.m}, dt::s32, tag::x);
    const memory::desc dst_md(dst_d, p.float_out ? dt::f32 : p.y_signed ? dt::s8 : dt::u8, tag::any);
    const convolution_forward::desc desc(prop_kind::forward_inference, algorithm::convolution_direct, src_md, wei_md,
                                         bias_md, dst_md, strides, dil, pad_l, pad_r);
    primitive_attr attr;
    attr.set_output_scales(1 << 1, std::vector<float>(static_cast<size_t>(g.m), 0.01f));
    if (!p.float_out && p.lo > kernels::ref::q8_min(p.y_signed)) {
      post_ops ops;
      ops.append_eltwise(1.f, algorithm::eltwise_relu, 0.f, 0.f);
      attr.set_post_ops(ops);
    }
    const convolution_forward::primitive_desc pd(desc, attr, eng);
    *impl = pd.impl_info_str();
    memory src(pd.src_desc(), eng), wei(pd.weights_desc(), eng), dst(pd.dst_desc(), eng);
    std::mt19937 rng(kSeed);
    for (memory* m : {&src, &wei}) {
      auto* b = static_cast<uint8_t*>(m->get_data_handle());
      for (size_t i = 0; i < m->get_desc().get_size(); ++i) b[i] = static_cast<uint8_t>(rng() >> 24) & 0x7f;
    }
    std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst}};
    if (!p.bias.empty()) {
      memory bias(pd.bias_desc(), eng);
      std::memcpy(bias.get_data_handle(), p.bias.data(), p.bias.size_bytes());
      args.insert({DNNL_ARG_BIAS, bias});
    }
    const convolution_forward conv(pd);
    const Stats st = time_runs(
        [&] {
          conv.execute(strm, args);
          strm.wait();
        },
        opt.layer_runs, 1, opt.layer_time);
    return st.median * 1000;
  } catch (const dnnl::error& e) {
    *impl = std::string("unsupported: ") + e.what();
    return NAN;
  }
}

// oneDNN's OpenMP pool at one thread (libgomp reads OMP_NUM_THREADS only at start-up; the
// function is looked up at run time so the bench need not link libgomp itself).
void dnnl_single_thread() {
  if (auto f = reinterpret_cast<void (*)(int)>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"))) f(1);
}
#endif

Result<std::vector<LayerRow>> bench_layers(const std::string& bin, const std::string& isa, const Options& opt) {
  auto loaded = read_bin_file(bin);
  if (!loaded.ok()) return loaded.status();
  const IntProgram& prog = loaded->program;
  std::vector<LayerRow> rows;
  std::mt19937 rng(kSeed);
  const kernels::SerialRunner serial;
  std::unique_ptr<SpinPool> pool;
  std::unique_ptr<kernels::PoolRunner> pooled;
  std::vector<uint8_t> flush;  // read before a "flushed" run: 64 MB, above the L3 of the machines we run on
  std::atomic<uint64_t> flush_sink{0};
  if (opt.layer_threads > 1) {
    flush.assign(size_t{64} << 20, 1);
    pool = std::make_unique<SpinPool>(opt.layer_threads);
    pooled = std::make_unique<kernels::PoolRunner>(*pool);
  }
  for (const Step& s : prog.steps) {
    if (s.kind != StepKind::kConv && s.kind != StepKind::kConvFloatOut) continue;
    const auto& g = s.conv_weights()->geom;
    const kernels::QConvParams p = conv_kernel_params(prog, s);
    LayerRow r;
    r.node = s.node;
    r.shape = conv_shape(g);
    r.kh = g.kh;
    r.kw = g.kw;
    r.fc = g.kh == 1 && g.kw == 1 && g.oh == 1 && g.ow == 1;
    r.macs = static_cast<double>(g.n) * g.m * g.oh * g.ow * (g.c / g.group) * g.kh * g.kw;

    AlignedBuffer x(static_cast<size_t>(g.n * g.c * g.h * g.w));
    AlignedBuffer y(static_cast<size_t>(g.n * g.m * g.oh * g.ow) * (p.float_out ? sizeof(float) : 1));
    std::uniform_int_distribution<int> u(0, 255);
    for (int64_t i = 0; i < g.n * g.c * g.h * g.w; ++i) x.p[i] = static_cast<std::byte>(u(rng));

    std::function<void()> run, run_pooled;
    std::unique_ptr<kernels::QConvKernel> k;
    std::unique_ptr<AlignedBuffer> scratch;
#if QMAP_BENCH_HAS_KERNELS
    kernels::Isa level{};
    std::string err;
    if (kernels::parse_isa(isa, &level, &err)) k = kernels::make_qconv(level, p);
#endif
    if (k) {
      r.kernel = k->name();
      const size_t stride = kernels::scratch_stride(k->scratch_bytes_per_worker());
      scratch = std::make_unique<AlignedBuffer>(stride * static_cast<size_t>(opt.layer_threads) + 64);
      run = [&] { k->run(x.p, y.p, scratch->p, serial); };
      if (pooled) run_pooled = [&] { k->run(x.p, y.p, scratch->p, *pooled); };
    } else {
      namespace kr = kernels::ref;
      r.kernel = isa == "ref" ? "ref" : "ref (factory declined)";
      run = [&] {
        if (p.float_out)
          kr::qconv2d_float_out(g, {x.p, p.x_signed}, p.zx, p.weights, p.bias, p.acc_scale, reinterpret_cast<float*>(y.p));
        else
          kr::qconv2d(g, {x.p, p.x_signed}, p.zx, p.weights, p.bias, p.mult, p.zy, p.lo, p.hi, {y.p, p.y_signed});
      };
    }
    const Stats st = time_runs(run, opt.layer_runs, 1, opt.layer_time);
    r.us = st.median * 1000;
    if (run_pooled) {
      r.us_threads = time_runs(run_pooled, opt.layer_runs, 1, opt.layer_time).median * 1000;
      // As in a network: the input was just written by the workers, each a contiguous share
      // of the channels (the element-wise steps' split), so each core reads the others' lines;
      // then also everything else cold (weights from DRAM, as a network's 25 MB of them may be).
      const size_t bytes = static_cast<size_t>(g.n * g.c * g.h * g.w);
      AlignedBuffer x0(bytes);
      std::memcpy(x0.p, x.p, bytes);
      const auto write_input = [&] {
        const size_t nw = static_cast<size_t>(opt.layer_threads);
        pool->parallel_for(nw, [&](size_t t, int) {
          std::memcpy(x.p + bytes * t / nw, x0.p + bytes * t / nw, bytes * (t + 1) / nw - bytes * t / nw);
        });
      };
      r.us_threads_written = time_runs(run_pooled, opt.layer_runs, 1, opt.layer_time, write_input).median * 1000;
      const auto write_and_flush = [&] {
        write_input();
        const size_t nw = static_cast<size_t>(opt.layer_threads);
        pool->parallel_for(nw, [&](size_t t, int) {
          uint64_t acc = 0;
          for (size_t i = flush.size() * t / nw; i < flush.size() * (t + 1) / nw; i += 64) acc += flush[i];
          flush_sink.fetch_add(acc, std::memory_order_relaxed);
        });
      };
      r.us_threads_flushed = time_runs(run_pooled, opt.layer_runs, 1, opt.layer_time, write_and_flush).median * 1000;
    }
#if QMAP_BENCH_HAS_DNNL
    if (opt.onednn) r.dnnl_us = dnnl_conv_us(p, opt, &r.dnnl_impl);
#endif
    rows.push_back(r);
  }
  return rows;
}

// --- output ---

std::string onednn_version() {
#if QMAP_BENCH_HAS_DNNL
  const dnnl_version_t* v = dnnl_version();
  return fmt::format("{}.{}.{}", v->major, v->minor, v->patch);
#else
  return "";
#endif
}

std::string ms(double v) { return std::isnan(v) ? "-" : fmt::format("{:.2f}", v); }
std::string ratio(double a, double b) { return std::isnan(a) || std::isnan(b) || b <= 0 ? "-" : fmt::format("{:.2f}x", a / b); }

void print_latency(const std::vector<ModelRow>& models, const Options& opt) {
  std::printf("\n### Latency (ms; median and min)\n\n");
  std::printf("| model | threads | .bin | .bin min | runs | ORT int8 | ORT int8 min | ORT float | ORT float min | "
              ".bin / ORT int8 | per round | .bin / ORT float |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const auto& m : models) {
    if (!m.error.empty()) {
      std::printf("| %s | | | | | | | | | | | FAILED: %s |\n", m.name.c_str(), m.error.c_str());
      continue;
    }
    for (const auto& r : m.rows) {
      std::string rounds = "-";
      if (!r.round_ratios.empty()) {
        const auto [lo, hi] = std::minmax_element(r.round_ratios.begin(), r.round_ratios.end());
        rounds = fmt::format("{:.2f}-{:.2f}x ({})", *lo, *hi, r.round_ratios.size());
      }
      std::printf("| %s | %d | %s | %s | %d | %s | %s | %s | %s | %s (min %s) | %s | %s (min %s) |%s\n", m.name.c_str(),
                  r.threads, ms(r.bin.median).c_str(), ms(r.bin.min).c_str(), r.bin.n, ms(r.ort_q.median).c_str(),
                  ms(r.ort_q.min).c_str(), ms(r.ort_f.median).c_str(), ms(r.ort_f.min).c_str(),
                  ratio(r.bin.median, r.ort_q.median).c_str(), ratio(r.bin.min, r.ort_q.min).c_str(), rounds.c_str(),
                  ratio(r.bin.median, r.ort_f.median).c_str(), ratio(r.bin.min, r.ort_f.min).c_str(),
                  r.error.empty() ? "" : (" " + r.error).c_str());
    }
  }
  // Geometric means over the torchvision models, per thread count.
  std::printf("\nGeometric mean of the ratio over the torchvision models (medians; minimums in brackets):\n\n");
  std::printf("| threads | models | .bin / ORT int8 | .bin / ORT float |\n|---:|---:|---:|---:|\n");
  for (int threads : opt.threads) {
    double lq = 0, lf = 0, lqm = 0, lfm = 0;
    int n = 0;
    for (const auto& m : models) {
      if (!m.error.empty() || !is_torchvision(m.name)) continue;
      for (const auto& r : m.rows) {
        if (r.threads != threads || std::isnan(r.ort_q.median) || std::isnan(r.ort_f.median)) continue;
        lq += std::log(r.bin.median / r.ort_q.median);
        lf += std::log(r.bin.median / r.ort_f.median);
        lqm += std::log(r.bin.min / r.ort_q.min);
        lfm += std::log(r.bin.min / r.ort_f.min);
        ++n;
      }
    }
    if (n == 0) continue;
    std::printf("| %d | %d | **%.2fx** (%.2fx) | **%.2fx** (%.2fx) |\n", threads, n, std::exp(lq / n), std::exp(lqm / n),
                std::exp(lf / n), std::exp(lfm / n));
  }
}

// --isas: the .bin with each listed level, beside the default level and ORT int8 of the same run.
void print_isas(const std::vector<ModelRow>& models, const Options& opt) {
  if (opt.isas.empty()) return;
  std::printf("\n### The .bin per kernel level (ms, median; each level's runs right after the default level's)\n\n");
  std::string head = "| model | threads |", rule = "|---|---:|";
  for (const auto& isa : opt.isas) head += " " + isa + " |", rule += "---:|";
  head += " default level | ORT int8 |", rule += "---:|---:|";
  for (const auto& isa : opt.isas) head += " " + isa + " / ORT int8 |", rule += "---:|";
  for (size_t i = 1; i < opt.isas.size(); ++i) head += " " + opt.isas[i] + " / " + opt.isas[0] + " |", rule += "---:|";
  head += " outputs as the default level's |", rule += "---|";
  std::printf("%s\n%s\n", head.c_str(), rule.c_str());
  for (const auto& m : models) {
    if (!m.error.empty()) continue;
    for (const auto& r : m.rows) {
      if (r.bin_isa.size() != opt.isas.size()) continue;
      std::string line = fmt::format("| {} | {} |", m.name, r.threads);
      // fmt::format, not " " + s + " |": GCC 12 warns falsely on the latter (-Wrestrict, PR 105329).
      for (const Stats& s : r.bin_isa) line += fmt::format(" {} |", ms(s.median));
      line += fmt::format(" {} | {} |", ms(r.bin.median), ms(r.ort_q.median));
      for (const Stats& s : r.bin_isa) line += fmt::format(" {} |", ratio(s.median, r.ort_q.median));
      for (size_t i = 1; i < r.bin_isa.size(); ++i)
        line += fmt::format(" {} |", ratio(r.bin_isa[i].median, r.bin_isa[0].median));
      bool same = true;
      for (bool b : r.isa_same) same = same && b;
      line += same ? " yes |" : " **no** |";
      std::printf("%s\n", line.c_str());
    }
  }
}

void print_load(const std::vector<ModelRow>& models) {
  std::printf("\n### Load (Model::load: map, check, adopt the stored packed weights or pack; the file in the page cache)\n\n");
  std::printf("| model | .bin MB | load ms | load min ms | .bin 1-thread run ms | load / run | load + first run ms |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|\n");
  for (const auto& m : models) {
    if (!m.error.empty()) continue;
    double run = NAN;
    for (const auto& r : m.rows)
      if (r.threads == 1) run = r.bin.median;
    std::printf("| %s | %.1f | %.2f | %.2f | %.2f | %.1f%% | %.2f |\n", m.name.c_str(), m.bin_bytes / 1e6,
                m.load.median, m.load.min, run, 100 * m.load.median / run, m.load_first_run.median);
  }
  std::printf("\n(load + first run: a fresh load, a 1-thread context and its first run; beyond load + run, the "
              "first touch of the mapped weights and the context's arena.)\n");
}

void print_agreement(const std::vector<ModelRow>& models) {
  std::printf("\n### Agreement (1 thread; not a pass/fail check)\n\n");
  std::printf("max |diff| / range: over each output, range = ORT's (max - min); steps = max |diff| / (range / 255).\n\n");
  std::printf("| model | output | .bin vs ORT int8: diff/range | steps | top-1 same | .bin vs ORT float: diff/range | "
              "top-1 same | .bin same at every thread count |\n");
  std::printf("|---|---|---:|---:|---|---:|---|---|\n");
  auto top1 = [](int v) { return v < 0 ? "-" : v ? "yes" : "no"; };
  for (const auto& m : models) {
    if (!m.error.empty()) continue;
    bool same = true;
    for (const auto& r : m.rows) same = same && r.same_as_1thread;
    for (const auto& o : m.outputs)
      std::printf("| %s | %s | %.2e | %.2f | %s | %.2e | %s | %s |\n", m.name.c_str(), o.name.c_str(), o.q_ratio,
                  o.q_ratio * 255, top1(o.top1_q), o.f_ratio, top1(o.top1_f), same ? "yes" : "**no**");
  }
}

void print_layers(const std::string& model, const std::vector<LayerRow>& rows, double peak, const char* peak_name,
                  const std::string& isa, const ModelRow* mrow, int layer_threads) {
  bool dnnl = false;
  for (const auto& r : rows) dnnl = dnnl || !r.dnnl_impl.empty();
  const bool mt = layer_threads > 1;
  const std::string mt_head =
      mt ? fmt::format(" µs at {0} threads | speed-up | µs, input just written by the {0} | speed-up | µs, caches "
                       "flushed too | speed-up |",
                       layer_threads)
         : "";
  auto pct = [&](double gmacs) { return peak > 0 ? fmt::format("{:.1f}%", 100 * gmacs / peak) : std::string("-"); };
  std::printf("\n### %s: convolutions one by one (ISA %s, 1 thread; %% of the %s peak)\n\n", model.c_str(), isa.c_str(),
              peak_name);
  std::printf("| # | layer | shape (c->m kxk stride out) | MMACs | µs | GMAC/s | %% of peak | kernel |%s%s\n",
              mt_head.c_str(), dnnl ? " oneDNN µs | oneDNN GMAC/s | oneDNN % | qmap / oneDNN |" : "");
  std::printf("|---:|---|---|---:|---:|---:|---:|---|%s%s\n", mt ? "---:|---:|---:|---:|---:|---:|" : "",
              dnnl ? "---:|---:|---:|---:|" : "");
  struct Sum {
    const char* name;
    int n = 0;
    double macs = 0, us = 0, dnnl_us = 0;
  };
  Sum k3{"3x3"}, k1{"1x1"}, fc{"fully connected (Gemm as 1x1 over 1x1)"}, other{"other (7x7 stem, ...)"},
      all{"all convolutions (sum of layer times)"};
  std::vector<std::string> dnnl_impls;
  int i = 0;
  for (const auto& r : rows) {
    const double gmacs = r.macs / (r.us * 1e3);
    std::string d;
    if (dnnl) {
      const double dg = r.macs / (r.dnnl_us * 1e3);
      d = std::isnan(r.dnnl_us) ? " - | - | - | - |"
                                : fmt::format(" {:.1f} | {:.1f} | {} | {:.2f}x |", r.dnnl_us, dg, pct(dg), r.us / r.dnnl_us);
      if (std::find(dnnl_impls.begin(), dnnl_impls.end(), r.dnnl_impl) == dnnl_impls.end()) dnnl_impls.push_back(r.dnnl_impl);
    }
    std::string m;
    for (double t : {r.us_threads, r.us_threads_written, r.us_threads_flushed})
      if (mt) m += fmt::format(" {:.1f} | {:.2f}x |", t, r.us / t);
    std::printf("| %d | %s | %s | %.1f | %.1f | %.1f | %s | %s |%s%s\n", ++i, r.node.c_str(), r.shape.c_str(),
                r.macs / 1e6, r.us, gmacs, pct(gmacs).c_str(), r.kernel.c_str(), m.c_str(), d.c_str());
    Sum& s = r.fc ? fc : r.kh == 3 && r.kw == 3 ? k3 : r.kh == 1 && r.kw == 1 ? k1 : other;
    for (Sum* t : {&s, &all}) {
      ++t->n;
      t->macs += r.macs;
      t->us += r.us;
      t->dnnl_us += r.dnnl_us;  // NaN when oneDNN declined a layer: the total shows "-"
    }
  }
  std::printf("\n| group | layers | GMACs | ms | GMAC/s | %% of peak |%s\n|---|---:|---:|---:|---:|---:|%s\n",
              dnnl ? " oneDNN ms | oneDNN GMAC/s | oneDNN % | qmap / oneDNN |" : "", dnnl ? "---:|---:|---:|---:|" : "");
  for (const Sum* s : {&k3, &k1, &fc, &other, &all}) {
    if (s->n == 0) continue;
    const double gmacs = s->macs / (s->us * 1e3);
    std::string d;
    if (dnnl) {
      const double dg = s->macs / (s->dnnl_us * 1e3);
      d = std::isnan(s->dnnl_us) ? " - | - | - | - |"
                                 : fmt::format(" {:.2f} | {:.1f} | {} | {:.2f}x |", s->dnnl_us / 1e3, dg, pct(dg), s->us / s->dnnl_us);
    }
    std::printf("| %s | %d | %.3f | %.2f | %.1f | %s |%s\n", s->name, s->n, s->macs / 1e9, s->us / 1e3, gmacs,
                pct(gmacs).c_str(), d.c_str());
  }
  if (mrow && mrow->error.empty()) {
    for (const auto& r : mrow->rows) {
      if (std::isnan(r.bin.median)) continue;
      const double gmacs = all.macs / (r.bin.median * 1e6);
      std::printf("| whole network: .bin latency at %d thread(s), %.2f ms | %d | %.3f | %.2f | %.1f | %s |%s\n", r.threads,
                  r.bin.median, all.n, all.macs / 1e9, r.bin.median, gmacs, pct(gmacs / r.threads).c_str(),
                  dnnl ? " | | | |" : "");
    }
    std::printf("\nThe whole-network rows count the convolutions' MACs only, over the whole .bin latency "
                "(median); at N threads the %% is of N cores' peak.\n");
  }
  if (mt) {
    double hot = 0, written = 0, flushed = 0;
    for (const auto& r : rows) hot += r.us_threads, written += r.us_threads_written, flushed += r.us_threads_flushed;
    std::printf("\nAt %d threads, the convolutions' times summed: %.2f ms hot, %.2f ms with the input just written "
                "by the workers, %.2f ms with the caches flushed too (1 thread, hot: %.2f ms).\n",
                layer_threads, hot / 1e3, written / 1e3, flushed / 1e3, all.us / 1e3);
  }
  if (dnnl) {
    std::printf("oneDNN %s (1 thread, layouts of its choice, reorders not timed) ran: %s.\n", onednn_version().c_str(),
                fmt::format("{}", fmt::join(dnnl_impls, "; ")).c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse_args(argc, argv);
  const auto peer = ort_peer::default_peer();
  auto version = ort_peer::check_available(peer);
  if (!version.ok()) {
    std::fprintf(stderr, "int8_vs_ort: %s\n", version.status().message().c_str());
    return 1;
  }
  const char* isa_env = env_isa();
  std::string layer_note;
  const std::string isa_layers = layer_isa(&layer_note);

  const std::string load_start = load_average();
  std::vector<ModelRow> models;
  for (const auto& d : opt.dirs) {
    progress("model " + d);
    models.push_back(bench_model(d, opt, peer));
    if (!models.back().error.empty()) progress("FAILED: " + models.back().error);
  }

  // The peak probe runs twice, before and after the per-layer timings, and keeps the best of
  // each figure: on a shared machine one probe can land in a busy moment.
  progress("measuring the int8 peak");
  qmap::Int8Peak peak = qmap::measure_int8_peak(opt.peak_time);
  int peak_probes = 1;
  auto merge_peak = [&] {
    ++peak_probes;
    const qmap::Int8Peak p2 = qmap::measure_int8_peak(opt.peak_time);
    peak.core_ghz = std::max(peak.core_ghz, p2.core_ghz);
    peak.vnni_zmm_gmacs = std::max(peak.vnni_zmm_gmacs, p2.vnni_zmm_gmacs);
    peak.vnni_ymm_gmacs = std::max(peak.vnni_ymm_gmacs, p2.vnni_ymm_gmacs);
    peak.avx2_vpmaddwd_gmacs = std::max(peak.avx2_vpmaddwd_gmacs, p2.avx2_vpmaddwd_gmacs);
  };

  std::vector<LayerRow> layers;
  std::string layers_error;
  const ModelRow* layers_model = nullptr;
  if (opt.layers != "none") {
    for (size_t i = 0; i < opt.dirs.size(); ++i)
      if (models[i].name == opt.layers) layers_model = &models[i];
    if (!layers_model) {
      layers_error = fmt::format("--layers {}: not among the model folders", opt.layers);
    } else {
      progress(fmt::format("{}: convolutions one by one ({})", opt.layers, isa_layers));
#if QMAP_BENCH_HAS_DNNL
      dnnl_single_thread();
#endif
      auto files = find_files(opt.dirs[layers_model - models.data()]);
      auto r = files.ok() ? bench_layers(files->bin, isa_layers, opt) : Result<std::vector<LayerRow>>(files.status());
      if (r.ok()) layers = std::move(*r);
      else layers_error = r.status().message();
      progress("measuring the int8 peak again");
      merge_peak();
    }
  }
  const bool vnni = peak.vnni_zmm_gmacs > 0;
  const double peak_gmacs = vnni ? peak.vnni_zmm_gmacs : peak.avx2_vpmaddwd_gmacs;
  const char* peak_name = vnni ? "AVX-512 VNNI (vpdpbusd zmm)" : "AVX2 (vpmaddwd ymm)";

  // --- the report ---
  std::printf("## int8_vs_ort\n\n");
  std::printf("- CPU: %s, %u hardware threads; onnxruntime-node %s (CPU EP)\n", cpu_name().c_str(),
              std::thread::hardware_concurrency(), version->c_str());
  std::printf("- load average (1 min) at the start and the end: %s, %s\n", load_start.c_str(), load_average().c_str());
  std::printf("- kernel ISA: QMAP_ISA=%s (this CPU's best: %s)\n", isa_env ? isa_env : "default", cpu_best_isa().c_str());
  std::printf("- timing: median and min of up to %d runs after %d warm-up, threads %s, in %d rounds that take the "
              ".bin, ORT int8 and ORT float in turn (the .bin: Context::run, at most %.0f s of runs per measurement; "
              "ORT: one session per round, intra-op threads, timed inside node)\n",
              opt.runs, opt.warmup, fmt::format("{}", fmt::join(opt.threads, ", ")).c_str(), opt.rounds, opt.max_time);
  int pinned = -1;
  for (const auto& m : models)
    for (const auto& r : m.rows) pinned = std::max(pinned, r.pinned_cpu);
  std::printf("- 1-thread rows: %s\n",
              pinned >= 0 ? fmt::format("the .bin and the ORT processes held on CPU {} (--no-pin: not)", pinned).c_str()
                          : "not held on one CPU");
  for (const auto& m : models)
    if (m.error.empty()) std::printf("- %s input: %s\n", m.name.c_str(), m.input_desc.c_str());
  print_latency(models, opt);
  print_isas(models, opt);
  print_load(models);
  print_agreement(models);

  std::printf("\n### Int8 peak of one core (probe in this run, src/report/host_probe.cpp; best of %d probe%s)\n\n", peak_probes,
              peak_probes > 1 ? "s" : "");
  std::printf("| probe | GMAC/s | MACs per cycle at %.2f GHz |\n|---|---:|---:|\n", peak.core_ghz);
  auto peak_row = [&](const char* name, double g) {
    if (g > 0) std::printf("| %s | %.1f | %.1f |\n", name, g, peak.core_ghz > 0 ? g / peak.core_ghz : NAN);
  };
  peak_row("vpdpbusd zmm (AVX-512 VNNI)", peak.vnni_zmm_gmacs);
  peak_row("vpdpbusd ymm (AVX-512 VL VNNI)", peak.vnni_ymm_gmacs);
  peak_row("vpmaddwd ymm + vpaddd (AVX2)", peak.avx2_vpmaddwd_gmacs);

  if (opt.layers != "none") {
    if (!layers_error.empty()) std::printf("\n%s: per-layer table skipped: %s\n", opt.layers.c_str(), layers_error.c_str());
    else {
      print_layers(opt.layers, layers, peak_gmacs, peak_name, isa_layers, layers_model, opt.layer_threads);
      if (!layer_note.empty()) std::printf("\nNote: %s.\n", layer_note.c_str());
    }
  }
  int failures = 0;
  for (const auto& m : models) failures += !m.error.empty();
  return failures ? 1 : 0;
}
