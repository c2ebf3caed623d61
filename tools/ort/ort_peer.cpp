// ort_peer: runs tools/ort/ort_run.js in a node subprocess (posix_spawnp, no shell, so
// paths need no quoting) and exchanges tensors through files in a private temp folder.
#include "ort_peer.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>

#include <nlohmann/json.hpp>

#include "core/file_io.h"

extern char** environ;

namespace qmap::ort_peer {
namespace fs = std::filesystem;

namespace {

constexpr const char* kInstallHint =
    "install the ONNX Runtime peer: apt-get install nodejs npm (Node.js >= 18), then "
    "cd tools/ort && ONNXRUNTIME_NODE_INSTALL=skip npm install   (or: npm install --ignore-scripts; "
    "the CPU library ships inside the npm package)";

// A temporary folder removed when this goes out of scope.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "qmap_ort_XXXXXX").string();
    if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  bool ok() const { return !path_.empty(); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct ProcResult {
  int exit_code = -1;  // 127: the executable was not found
  std::string out, err;
};

Result<ProcResult> spawn(const std::vector<std::string>& argv, const std::string& dir) {
  const std::string out_path = dir + "/stdout.txt", err_path = dir + "/stderr.txt";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ProcResult r;
  if (rc != 0) {
    r.exit_code = 127;  // ENOENT etc.: report like a shell would
    r.err = std::string("cannot start '") + argv[0] + "': " + std::strerror(rc);
    return r;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return error("ort peer: waitpid failed: {}", std::strerror(errno));
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (auto o = read_file(out_path); o.ok()) r.out = *o;
  if (auto e = read_file(err_path); e.ok()) r.err = *e;
  while (!r.err.empty() && (r.err.back() == '\n' || r.err.back() == '\r')) r.err.pop_back();
  return r;
}

std::string join_cmd(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) s += (s.empty() ? "" : " ") + a;
  return s;
}

// Runs node with ort_run.js and the given arguments; any failure becomes an error that
// names the command and, when node or onnxruntime-node is missing, how to install them.
Result<ProcResult> run_script(const Peer& peer, std::vector<std::string> args, const std::string& dir) {
  std::vector<std::string> argv{peer.node, peer.script};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = spawn(argv, dir);
  if (!r.ok()) return r.status();
  if (r->exit_code == 127)
    return error("ort peer: node not found ({}): {}", r->err, kInstallHint);
  if (r->exit_code != 0) {
    std::string msg = fmt::format("ort peer: '{}' failed (exit {}): {}", join_cmd(argv),
                                  r->exit_code, r->err);
    if (r->err.find("npm install") == std::string::npos &&
        (r->err.find("onnxruntime-node") != std::string::npos ||
         r->err.find("Cannot find module") != std::string::npos))
      msg += std::string("; ") + kInstallHint;
    return Status::error(msg);
  }
  return r;
}

const char* ort_dtype_name(DType t) {
  switch (t) {
    case DType::kFloat32: return "float32";
    case DType::kFloat64: return "float64";
    case DType::kInt8: return "int8";
    case DType::kUInt8: return "uint8";
    case DType::kInt32: return "int32";
    case DType::kInt64: return "int64";
    case DType::kBool: return "bool";
    default: return nullptr;
  }
}

std::string dims_arg(const Dims& dims) { return dims.empty() ? "scalar" : dims_str(dims); }

// Writes the inputs as files in `dir` and returns the matching --input arguments.
Result<std::vector<std::string>> write_inputs(const std::vector<NamedTensor>& inputs,
                                              const std::string& dir) {
  std::vector<std::string> args;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i].tensor;
    const char* dt = ort_dtype_name(t.dtype());
    if (dt == nullptr)
      return error("ort peer: input '{}': dtype {} cannot be passed to ort_run.js", inputs[i].name,
                   dtype_name(t.dtype()));
    const std::string file = dir + "/input_" + std::to_string(i) + ".bin";
    QMAP_RETURN_IF_ERROR(write_file_atomic(
        file, std::string_view(reinterpret_cast<const char*>(t.raw()), t.nbytes())));
    args.push_back("--input");
    args.push_back(inputs[i].name + "=" + file + ":" + dt + ":" + dims_arg(t.dims()));
  }
  return args;
}

}  // namespace

Peer default_peer() {
  Peer p;
  if (const char* n = std::getenv("QMAP_NODE"); n != nullptr && *n) p.node = n;
#ifdef QMAP_ORT_RUN_JS
  p.script = QMAP_ORT_RUN_JS;
#endif
  return p;
}

Result<std::string> check_available(const Peer& peer) {
  if (peer.script.empty() || !fs::exists(peer.script))
    return error("ort peer: script '{}' not found (built without QMAP_ORT_RUN_JS?)", peer.script);
  TempDir dir;
  if (!dir.ok()) return error("ort peer: cannot create a temporary folder: {}", std::strerror(errno));
  auto r = run_script(peer, {"--check"}, dir.path());
  if (!r.ok()) return r.status();
  try {
    return nlohmann::json::parse(r->out).at("onnxruntime_node").get<std::string>();
  } catch (const std::exception& e) {
    return error("ort peer: unexpected --check output '{}': {}", r->out, e.what());
  }
}

Result<std::vector<NamedTensor>> run(const Peer& peer, const std::string& model,
                                     const std::vector<NamedTensor>& inputs, int threads) {
  TempDir dir;
  if (!dir.ok()) return error("ort peer: cannot create a temporary folder: {}", std::strerror(errno));
  auto in_args = write_inputs(inputs, dir.path());
  if (!in_args.ok()) return in_args.status();
  std::vector<std::string> args{model, "--threads", std::to_string(threads), "--out-dir",
                                dir.path() + "/out"};
  args.insert(args.end(), in_args->begin(), in_args->end());
  auto r = run_script(peer, args, dir.path());
  if (!r.ok()) return r.status();

  const std::string manifest_path = dir.path() + "/out/manifest.json";
  auto text = read_file(manifest_path);
  if (!text.ok()) return text.status();
  std::vector<NamedTensor> outs;
  try {
    const auto j = nlohmann::json::parse(*text);
    for (const auto& o : j.at("outputs")) {
      NamedTensor nt;
      nt.name = o.at("name").get<std::string>();
      const Dims dims = o.at("dims").get<Dims>();
      auto bytes = read_file(dir.path() + "/out/" + o.at("file").get<std::string>());
      if (!bytes.ok()) return bytes.status();
      nt.tensor = Tensor(DType::kFloat32, dims);
      if (bytes->size() != nt.tensor.nbytes())
        return error("ort peer: output '{}' file has {} bytes, dims {} need {}", nt.name,
                     bytes->size(), dims_str(dims), nt.tensor.nbytes());
      std::memcpy(nt.tensor.raw(), bytes->data(), bytes->size());
      outs.push_back(std::move(nt));
    }
  } catch (const std::exception& e) {
    return error("ort peer: bad manifest '{}': {}", manifest_path, e.what());
  }
  return outs;
}

Result<Timing> time(const Peer& peer, const std::string& model,
                    const std::vector<NamedTensor>& inputs, int threads, int runs, int warmup) {
  TempDir dir;
  if (!dir.ok()) return error("ort peer: cannot create a temporary folder: {}", std::strerror(errno));
  auto in_args = write_inputs(inputs, dir.path());
  if (!in_args.ok()) return in_args.status();
  std::vector<std::string> args{model, "--threads", std::to_string(threads), "--time",
                                std::to_string(runs), "--warmup", std::to_string(warmup)};
  args.insert(args.end(), in_args->begin(), in_args->end());
  if (inputs.empty()) {
    args.push_back("--random-seed");
    args.push_back("1");
  }
  auto r = run_script(peer, args, dir.path());
  if (!r.ok()) return r.status();
  try {
    const auto j = nlohmann::json::parse(r->out);
    Timing t;
    t.median_ms = j.at("median_ms").get<double>();
    t.min_ms = j.at("min_ms").get<double>();
    t.runs = j.at("runs").get<int>();
    if (j.contains("times_ms")) t.times_ms = j.at("times_ms").get<std::vector<double>>();
    return t;
  } catch (const std::exception& e) {
    return error("ort peer: unexpected --time output '{}': {}", r->out, e.what());
  }
}

Diff compare(const Tensor& actual, const Tensor& reference) {
  Diff d;
  if (actual.dims() != reference.dims() && actual.numel() != reference.numel()) {
    d.dims_match = false;
    return d;
  }
  d.dims_match = actual.dims() == reference.dims();
  const auto a = actual.to_double();
  const auto b = reference.to_double();
  double lo = INFINITY, hi = -INFINITY;
  for (size_t i = 0; i < b.size(); ++i) {
    lo = std::min(lo, b[i]);
    hi = std::max(hi, b[i]);
    const double diff = std::fabs(a[i] - b[i]);
    // NaN in either side counts as an infinite difference.
    const double dd = std::isnan(diff) ? INFINITY : diff;
    if (d.worst_index < 0 || dd > d.max_abs_diff) {
      d.max_abs_diff = dd;
      d.worst_index = static_cast<int64_t>(i);
    }
  }
  d.range = b.empty() ? 0.0 : hi - lo;
  return d;
}

const Result<std::string>& default_peer_status() {
  static const Result<std::string> status = check_available(default_peer());
  return status;
}

Status check_agreement(const std::string& what, const std::vector<NamedTensor>& actual,
                       const std::vector<NamedTensor>& reference, double rel_tol) {
  if (actual.size() != reference.size())
    return error("{}: {} outputs vs ORT's {}", what, actual.size(), reference.size());
  std::string failures;
  for (size_t i = 0; i < actual.size(); ++i) {
    const auto& a = actual[i];
    const auto& r = reference[i];
    if (a.name != r.name)
      failures += fmt::format("{}: output {} is named '{}', ORT's '{}'\n", what, i, a.name, r.name);
    const Tensor a32 = a.tensor.dtype() == DType::kFloat32 ? a.tensor : cast_tensor(a.tensor, DType::kFloat32);
    const Diff d = compare(a32, r.tensor);
    std::printf("[ort] %-34s %-12s %-12s max|diff| %.3g  range %.4g  diff/range %.3g  (tol %.0e)\n",
                what.c_str(), r.name.c_str(), dims_str(r.tensor.dims()).c_str(), d.max_abs_diff, d.range,
                d.ratio(), rel_tol);
    if (!d.dims_match) {
      failures += fmt::format("{}: output '{}' dims {} vs ORT {}\n", what, r.name, dims_str(a.tensor.dims()),
                              dims_str(r.tensor.dims()));
    } else if (!d.ok(rel_tol)) {
      const auto k = static_cast<size_t>(d.worst_index);
      failures += fmt::format("{}: output '{}' max |diff| {} > {} * range {} at flat index {} (got {}, ORT {})\n",
                              what, r.name, d.max_abs_diff, rel_tol, d.range, k, a32.to_double()[k],
                              r.tensor.to_double()[k]);
    }
  }
  std::fflush(stdout);
  if (failures.empty()) return ok_status();
  failures.pop_back();
  return Status::error(failures);
}

std::vector<std::string> onnx_model_stems(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.path().extension() == ".onnx") names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

Tensor random_input(DType dtype, const Dims& dims, uint32_t seed) {
  std::mt19937 rng(seed);
  Tensor t(dtype, dims);
  if (dtype == DType::kFloat32) {
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    for (float& v : t.data<float>()) v = u(rng);
    return t;
  }
  if (dtype == DType::kFloat64) {
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    for (double& v : t.data<double>()) v = u(rng);
    return t;
  }
  Tensor i64(DType::kInt64, dims);
  std::uniform_int_distribution<int64_t> u(0, dtype == DType::kBool ? 1 : 3);
  for (int64_t& v : i64.data<int64_t>()) v = u(rng);
  return cast_tensor(i64, dtype);
}

}  // namespace qmap::ort_peer
