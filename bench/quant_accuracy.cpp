// quant_accuracy: float vs int8 top-1 on real ImageNet images, per calibration method, with
// ONNX Runtime's own int8 MobileNetV2 as the peer (issue 4, item 8). Reads ../shared
// (models/onnx/mobilenetv2-12-*.onnx, data/imagenet-calib, data/imagenet-dev); a benchmark,
// not a test.
//
//   quant_accuracy [--shared DIR] [--work DIR] [--variants default,max,...] [--dev-limit N]
//                  [--threads N] [--torchvision DIR] [--no-ort]
//
// For each variant it writes a YAML config, runs the makertbin pipeline in-process, then runs
// the original float model (FloatEngine) and the quantized model (IntSimulator) on the dev
// images, preprocessed like torchvision's ImageNet eval (short side 256, center crop 224;
// OpenCV-style bilinear, docs/preprocess.md) and fed as uint8 RGB NHWC, the models' runtime
// input. Prints one markdown row per variant: float and int8 top-1/top-5, mean output cosine,
// conversion time.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/log.h"
#include "core/thread_pool.h"
#include "engine/float_engine.h"
#include "image/decode.h"
#include "image/preprocess.h"
#include "import/onnx/onnx_import.h"
#include "makertbin/makertbin.h"
#include "ort_peer.h"
#include "quant/int_simulator.h"
#include "report/compare.h"

namespace fs = std::filesystem;
using namespace qmap;

namespace {

struct Args {
  fs::path shared = fs::path(QMAP_SOURCE_DIR) / ".." / "shared";
  fs::path work = fs::path(QMAP_BINARY_DIR) / "bench_quant_accuracy";
  std::vector<std::string> variants = {"max", "percentile", "kl", "mse", "default", "default_per_tensor", "mix"};
  size_t dev_limit = 0;
  int threads = 0;
  fs::path torchvision;  // folder of torchvision ONNX models: output cosine per method
  bool ort = true;
  size_t torchvision_images = 20;
  size_t ort_quantized = 0;  // images on which ORT runs the last variant's quantized ONNX  // dev images per torchvision model (output cosine only)
};

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string t; std::getline(ss, t, sep);)
    if (!t.empty()) out.push_back(t);
  return out;
}

struct Labeled {
  std::string file;
  int label = -1;
};

std::vector<Labeled> read_labels(const fs::path& dir) {
  std::vector<Labeled> out;
  std::ifstream f(dir / "labels.txt");
  for (std::string line; std::getline(f, line);) {
    std::istringstream s(line);
    Labeled l;
    if (s >> l.file >> l.label) out.push_back(l);
  }
  return out;
}

// torchvision's ImageNet eval transform on uint8: short side 256, center crop 224, RGB.
PreprocessOptions imagenet_transform(Layout layout) {
  PreprocessOptions o;
  o.short_side = 256;
  o.crop_h = o.crop_w = 224;
  o.color = ColorType::kRgb;
  o.layout = layout;
  o.dtype = DType::kUInt8;
  return o;
}

// The YAML of one variant for a model whose input is `input_name` 1x3x224x224 float NCHW.
std::string variant_yaml(const std::string& variant, const fs::path& model, const std::string& input_name,
                         const fs::path& calib_dir, const fs::path& out_dir) {
  std::string cal_type = variant, extra;
  if (variant == "percentile") {
    cal_type = "max";
    extra = "  max_percentile: 0.99995\n";
  } else if (variant == "default_per_tensor") {
    cal_type = "default";
    extra = "  per_channel: False\n";
  }
  return fmt::format(
      "model_parameters:\n  onnx_model: '{}'\n  march: generic\n  working_dir: '{}'\n"
      "  output_model_file_prefix: m\n"
      "input_parameters:\n  input_name: {}\n  input_shape: 1x3x224x224\n  input_type_train: rgb\n"
      "  input_layout_train: NCHW\n  input_type_rt: rgb\n  input_layout_rt: NHWC\n"
      "  norm_type: data_mean_and_scale\n  mean_value: 123.675 116.28 103.53\n"
      "  scale_value: 0.017125 0.017507 0.017429\n"
      "calibration_parameters:\n  cal_data_dir: '{}'\n  cal_data_type: uint8\n  calibration_type: {}\n{}"
      "compiler_parameters:\n  optimize_level: O3\n",
      model.string(), out_dir.string(), input_name, calib_dir.string(), cal_type, extra);
}

struct Score {
  double top1 = 0, top5 = 0, cosine = 0;
  size_t n = 0;
};

// Runs `make_runner()`'s model on every sample in parallel (one runner per worker); returns the
// first output of each sample.
template <typename Runner>
std::vector<Tensor> run_all(const std::vector<Tensor>& inputs, int threads, const std::function<Result<Runner>()>& make) {
  ThreadPool pool(threads);
  std::vector<std::optional<Runner>> runners(static_cast<size_t>(pool.size()));
  std::vector<Tensor> out(inputs.size());
  pool.parallel_for(inputs.size(), [&](size_t i, int w) {
    auto& r = runners[static_cast<size_t>(w)];
    if (!r) {
      auto made = make();
      if (!made) {
        std::fprintf(stderr, "quant_accuracy: %s\n", made.status().message().c_str());
        std::exit(1);
      }
      r.emplace(std::move(*made));
    }
    auto res = r->run({inputs[i]});
    if (!res) {
      std::fprintf(stderr, "quant_accuracy: %s\n", res.status().message().c_str());
      std::exit(1);
    }
    Tensor t = (*res)[0];
    out[i] = t.dtype() == DType::kFloat32 ? t : cast_tensor(t, DType::kFloat32);
  });
  return out;
}

Score score(const std::vector<Tensor>& outputs, const std::vector<Labeled>& labels,
            const std::vector<Tensor>* reference = nullptr) {
  Score s;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const auto v = outputs[i].data<float>();
    std::vector<int> idx(v.size());
    std::iota(idx.begin(), idx.end(), 0);
    std::partial_sort(idx.begin(), idx.begin() + 5, idx.end(), [&](int a, int b) { return v[a] > v[b] || (v[a] == v[b] && a < b); });
    s.top1 += idx[0] == labels[i].label;
    s.top5 += std::find(idx.begin(), idx.begin() + 5, labels[i].label) != idx.begin() + 5;
    if (reference) s.cosine += compare_tensors((*reference)[i], outputs[i]).cosine;
  }
  s.n = outputs.size();
  if (s.n) {
    s.top1 = 100.0 * s.top1 / s.n;
    s.top5 = 100.0 * s.top5 / s.n;
    s.cosine /= s.n;
  }
  return s;
}

Result<std::vector<Tensor>> load_dev(const fs::path& dir, const std::vector<Labeled>& labels, Layout layout) {
  std::vector<Tensor> out;
  const PreprocessOptions o = imagenet_transform(layout);
  for (const Labeled& l : labels) {
    QMAP_ASSIGN_OR_RETURN(Image img, read_image((dir / l.file).string()));
    QMAP_ASSIGN_OR_RETURN(Tensor t, preprocess_image(img, o));
    Dims d = t.dims();
    d.insert(d.begin(), 1);
    out.push_back(t.reshaped(d));
  }
  return out;
}

// Runs makertbin for one variant of `model` in `dir` and returns the conversion time.
Result<double> convert(const std::string& variant, const fs::path& model, const fs::path& calib, const fs::path& dir,
                       int threads) {
  fs::create_directories(dir);
  std::ofstream(dir / "cfg.yaml") << variant_yaml(variant, model, "input", calib, dir / "out");
  Logger log(nullptr, LogLevel::kInfo);
  MakertbinOptions mo;
  mo.config_path = (dir / "cfg.yaml").string();
  mo.model_type = "onnx";
  mo.progress = false;
  mo.jobs = threads;
  const auto t0 = std::chrono::steady_clock::now();
  QMAP_RETURN_IF_ERROR(run_makertbin(mo, log));
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

Result<std::vector<Tensor>> run_model(const fs::path& onnx, const std::vector<Tensor>& inputs, int threads, bool quantized) {
  QMAP_ASSIGN_OR_RETURN(Graph g, import_onnx(onnx.string()));
  if (quantized) return run_all<IntSimulator>(inputs, threads, [&]() { return IntSimulator::create(g); });
  return run_all<FloatEngine>(inputs, threads, [&]() { return FloatEngine::create(g); });
}

int fail(const Status& s) {
  std::fprintf(stderr, "quant_accuracy: %s\n", s.message().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (k == "--shared") a.shared = next();
    else if (k == "--work") a.work = next();
    else if (k == "--variants") a.variants = split(next(), ',');
    else if (k == "--dev-limit") a.dev_limit = std::stoul(next());
    else if (k == "--threads") a.threads = std::stoi(next());
    else if (k == "--torchvision") a.torchvision = next();
    else if (k == "--no-ort") a.ort = false;
    else if (k == "--torchvision-images") a.torchvision_images = std::stoul(next());
    else if (k == "--ort-quantized") a.ort_quantized = std::stoul(next());
    else {
      std::fprintf(stderr, "usage: quant_accuracy [--shared DIR] [--work DIR] [--variants a,b] [--dev-limit N] "
                           "[--threads N] [--torchvision DIR] [--no-ort]\n");
      return 2;
    }
  }
  const int threads = a.threads > 0 ? a.threads : default_thread_count();
  const fs::path float_model = a.shared / "models/onnx/mobilenetv2-12-float.onnx";
  const fs::path ort_int8 = a.shared / "models/onnx/mobilenetv2-12-int8-ort.onnx";
  if (!fs::exists(float_model)) return fail(error("{} not found (pass --shared)", float_model.string()));
  fs::create_directories(a.work);

  // Calibration binaries (rgb NCHW uint8, the training type and layout) from imagenet-calib.
  const fs::path calib = a.work / "calib";
  if (!fs::exists(calib)) {
    PreprocessOptions o = imagenet_transform(Layout::kNCHW);
    o.input_dir = (a.shared / "data/imagenet-calib").string();
    o.output_dir = calib.string();
    auto r = preprocess_directory(o, nullptr);
    if (!r) return fail(r.status());
  }
  std::vector<Labeled> labels = read_labels(a.shared / "data/imagenet-dev");
  if (a.dev_limit && labels.size() > a.dev_limit) labels.resize(a.dev_limit);
  auto dev = load_dev(a.shared / "data/imagenet-dev", labels, Layout::kNHWC);
  if (!dev) return fail(dev.status());
  std::printf("MobileNetV2 (mobilenetv2-12-float.onnx), %zu calibration images, %zu dev images, %d threads\n\n",
              size_t{100}, labels.size(), threads);

  std::vector<Tensor> float_out, last_q;
  std::printf("| variant | float top-1 | int8 top-1 | float top-5 | int8 top-5 | output cosine | makertbin s |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (const std::string& v : a.variants) {
    const fs::path dir = a.work / v;
    auto secs = convert(v, float_model, calib, dir, threads);
    if (!secs) return fail(secs.status());
    if (float_out.empty()) {
      auto f = run_model(dir / "out/m_original_float_model.onnx", *dev, threads, false);
      if (!f) return fail(f.status());
      float_out = std::move(*f);
    }
    auto q_out = run_model(dir / "out/m_quantized_model.onnx", *dev, threads, true);
    if (!q_out) return fail(q_out.status());
    const Score fs_ = score(float_out, labels), qs = score(*q_out, labels, &float_out);
    last_q = *q_out;
    std::printf("| %s | %.2f | %.2f | %.2f | %.2f | %.5f | %.1f |\n", v.c_str(), fs_.top1, qs.top1, fs_.top5, qs.top5,
                qs.cosine, *secs);
    std::fflush(stdout);
  }

  if (a.ort && fs::exists(ort_int8)) {
    // ONNX Runtime's int8 model (and its float model) on the same pixels: float NCHW input,
    // x/255 normalized with ImageNet mean/std, the whole dev set as one batch.
    const int64_t n = static_cast<int64_t>(dev->size());
    Tensor batch(DType::kFloat32, {n, 3, 224, 224});
    const float mean[3] = {123.675f, 116.28f, 103.53f}, scale[3] = {0.017125f, 0.017507f, 0.017429f};
    auto dst = batch.data<float>();
    for (int64_t i = 0; i < n; ++i) {
      const auto src = (*dev)[static_cast<size_t>(i)].data<uint8_t>();  // 1x224x224x3
      for (int64_t c = 0; c < 3; ++c)
        for (int64_t p = 0; p < 224 * 224; ++p)
          dst[static_cast<size_t>(((i * 3 + c) * 224 * 224) + p)] = (src[static_cast<size_t>(p * 3 + c)] - mean[c]) * scale[c];
    }
    for (const fs::path& m : {float_model, ort_int8}) {
      auto r = ort_peer::run(ort_peer::default_peer(), m.string(), {{"input", batch}}, threads);
      if (!r) return fail(r.status());
      const Tensor& out = (*r)[0].tensor;
      std::vector<Tensor> per;
      for (int64_t i = 0; i < n; ++i) {
        Tensor t(DType::kFloat32, {1, 1000});
        std::copy_n(out.data<float>().begin() + i * 1000, 1000, t.data<float>().begin());
        per.push_back(t);
      }
      const Score s = score(per, labels, float_out.empty() ? nullptr : &float_out);
      std::printf("| ONNX Runtime %s | | %.2f | | %.2f | %.5f | |\n", m.filename().c_str(), s.top1, s.top5, s.cosine);
    }
  }
  if (a.ort_quantized > 0 && !a.variants.empty() && !last_q.empty()) {
    // ONNX Runtime running qmap's quantized ONNX vs qmap's integer simulator on the same
    // uint8 pixels (issue 5, item 3): how often and by how much they differ.
    const fs::path q = a.work / a.variants.back() / "out/m_quantized_model.onnx";
    size_t same_top1 = 0, identical = 0, n = std::min(a.ort_quantized, dev->size());
    double worst = 0, sum_ratio = 0;
    for (size_t i = 0; i < n; ++i) {
      auto r = ort_peer::run(ort_peer::default_peer(), q.string(), {{"input", (*dev)[i]}}, 1);
      if (!r) return fail(r.status());
      const Tensor& o = (*r)[0].tensor;
      const ort_peer::Diff d = ort_peer::compare(o, last_q[i]);
      worst = std::max(worst, d.ratio());
      sum_ratio += d.ratio();
      identical += d.max_abs_diff == 0;
      const std::span<const float> x = o.data<float>(), y = std::as_const(last_q[i]).data<float>();
      same_top1 += std::max_element(x.begin(), x.end()) - x.begin() == std::max_element(y.begin(), y.end()) - y.begin();
    }
    std::printf("\nONNX Runtime on %s vs qmap's integer simulator, %zu images: identical outputs %zu, same top-1 %zu, "
                "max |diff|/range worst %.2e mean %.2e\n",
                q.filename().c_str(), n, identical, same_top1, worst, sum_ratio / static_cast<double>(n));
  }

  if (!a.torchvision.empty()) {
    // Random-weight torchvision models (tools/models/export_torchvision.py): top-1 means
    // nothing, so only the mean output cosine (int8 vs float) over the first --torchvision-images (20) dev images.
    const std::vector<std::string> methods = {"max", "percentile", "kl", "mse", "default"};
    std::vector<Tensor> sub(dev->begin(), dev->begin() + static_cast<long>(std::min<size_t>(a.torchvision_images, dev->size())));
    std::printf("\nOutput cosine, int8 vs float, %zu dev images (torchvision models with random weights)\n\n| model |",
                sub.size());
    for (const auto& m : methods) std::printf(" %s |", m.c_str());
    std::printf("\n|---|");
    for (size_t i = 0; i < methods.size(); ++i) std::printf("---|");
    std::printf("\n");
    std::vector<fs::path> models;
    for (const auto& e : fs::directory_iterator(a.torchvision))
      if (e.path().extension() == ".onnx") models.push_back(e.path());
    std::sort(models.begin(), models.end());
    for (const fs::path& m : models) {
      std::printf("| %s |", m.stem().c_str());
      std::vector<Tensor> fref;
      for (const auto& method : methods) {
        const fs::path dir = a.work / "torchvision" / m.stem() / method;
        auto secs = convert(method, m, calib, dir, threads);
        if (!secs) return fail(secs.status());
        if (fref.empty()) {
          auto f = run_model(dir / "out/m_original_float_model.onnx", sub, threads, false);
          if (!f) return fail(f.status());
          fref = std::move(*f);
        }
        auto q = run_model(dir / "out/m_quantized_model.onnx", sub, threads, true);
        if (!q) return fail(q.status());
        double c = 0;
        for (size_t i = 0; i < sub.size(); ++i) c += compare_tensors(fref[i], (*q)[i]).cosine;
        std::printf(" %.4f |", c / static_cast<double>(sub.size()));
        std::fflush(stdout);
      }
      std::printf("\n");
    }
  }
  return 0;
}
