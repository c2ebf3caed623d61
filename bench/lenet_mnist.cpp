// lenet_mnist: BVLC's LeNet (Caffe: mnist_deploy.prototxt + lenet_iter_10000.caffemodel) on
// the 10,000 MNIST test images, through import_caffe and the float reference engine.
// Prints top-1 accuracy (Caffe's own test of this model gives 99.04%) and the time, and
// the same model after an ONNX export round trip (the _original_float_model.onnx path),
// whose accuracy must be identical.
//
// Preprocessing as in Caffe's LeNet training net: pixel * 0.00390625 (1/256), no mean.
// usage: lenet_mnist [MODEL_DIR [MNIST_DIR]]
//   defaults: <source>/../shared/models/caffe/lenet and <source>/../shared/data/mnist
//   (t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz, read with zlib).
// Exit status 1 on any error.
#include <zlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/float_engine.h"
#include "import/caffe/caffe_import.h"
#include "import/onnx/onnx_export.h"
#include "import/onnx/onnx_import.h"

namespace {

namespace fs = std::filesystem;
using namespace qmap;

constexpr int64_t kBatch = 100;  // the deploy net declares 1x1x28x28; --input-shape style override

Result<std::string> gunzip(const fs::path& p) {
  gzFile f = gzopen(p.c_str(), "rb");
  if (f == nullptr) return error("cannot open '{}'", p.string());
  std::string out;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  const bool ok = n == 0;
  gzclose(f);
  if (!ok) return error("'{}': corrupt gzip data", p.string());
  return out;
}

uint32_t be32(const std::string& s, size_t at) {
  auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(s[at + i])); };
  return b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3);
}

struct Mnist {
  int64_t count = 0, rows = 0, cols = 0;
  std::string pixels;  // count * rows * cols bytes
  std::string labels;  // count bytes
};

Result<Mnist> read_mnist(const fs::path& dir) {
  QMAP_ASSIGN_OR_RETURN(std::string img, gunzip(dir / "t10k-images-idx3-ubyte.gz"));
  QMAP_ASSIGN_OR_RETURN(std::string lab, gunzip(dir / "t10k-labels-idx1-ubyte.gz"));
  if (img.size() < 16 || be32(img, 0) != 2051) return error("images: not an idx3-ubyte file (magic 2051)");
  if (lab.size() < 8 || be32(lab, 0) != 2049) return error("labels: not an idx1-ubyte file (magic 2049)");
  Mnist m;
  m.count = be32(img, 4);
  m.rows = be32(img, 8);
  m.cols = be32(img, 12);
  if (be32(lab, 4) != m.count) return error("{} images but {} labels", m.count, be32(lab, 4));
  if (img.size() != 16 + static_cast<size_t>(m.count * m.rows * m.cols) || lab.size() != 8 + static_cast<size_t>(m.count))
    return error("idx files are truncated");
  m.pixels = img.substr(16);
  m.labels = lab.substr(8);
  return m;
}

// Top-1 hits over the whole set; the graph's first output is the class scores.
Result<int64_t> evaluate(const Graph& g, const Mnist& m, double* seconds) {
  QMAP_ASSIGN_OR_RETURN(FloatEngine engine, FloatEngine::create(g));
  const int64_t plane = m.rows * m.cols;
  int64_t hits = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t start = 0; start < m.count; start += kBatch) {
    const int64_t n = std::min(kBatch, m.count - start);
    if (n != kBatch) return error("the test set size {} is not a multiple of the batch {}", m.count, kBatch);
    Tensor x(DType::kFloat32, {kBatch, 1, m.rows, m.cols});
    auto xd = x.data<float>();
    for (int64_t i = 0; i < n * plane; ++i)
      xd[static_cast<size_t>(i)] = static_cast<unsigned char>(m.pixels[static_cast<size_t>(start * plane + i)]) * 0.00390625f;
    QMAP_ASSIGN_OR_RETURN(std::vector<Tensor> outs, engine.run({x}));
    const Tensor& scores = outs[0];
    const int64_t classes = scores.numel() / kBatch;
    auto s = scores.data<float>();
    for (int64_t b = 0; b < n; ++b) {
      int64_t best = 0;
      for (int64_t c = 1; c < classes; ++c)
        if (s[static_cast<size_t>(b * classes + c)] > s[static_cast<size_t>(b * classes + best)]) best = c;
      hits += best == static_cast<unsigned char>(m.labels[static_cast<size_t>(start + b)]);
    }
  }
  *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return hits;
}

int run(int argc, char** argv) {
  const fs::path shared = fs::path(QMAP_SOURCE_DIR) / ".." / "shared";
  const fs::path model_dir = argc > 1 ? fs::path(argv[1]) : shared / "models" / "caffe" / "lenet";
  const fs::path data_dir = argc > 2 ? fs::path(argv[2]) : shared / "data" / "mnist";
  auto m = read_mnist(data_dir);
  if (!m.ok()) {
    std::fprintf(stderr, "lenet_mnist: %s: %s\n", data_dir.c_str(), m.status().message().c_str());
    return 1;
  }
  CaffeImportOptions opt;
  opt.input_shapes["data"] = {kBatch, 1, m->rows, m->cols};
  auto g = import_caffe((model_dir / "mnist_deploy.prototxt").string(), (model_dir / "lenet_iter_10000.caffemodel").string(), opt);
  if (!g.ok()) {
    std::fprintf(stderr, "lenet_mnist: %s\n", g.status().message().c_str());
    return 1;
  }
  double t_caffe = 0, t_onnx = 0;
  auto hits = evaluate(*g, *m, &t_caffe);
  if (!hits.ok()) {
    std::fprintf(stderr, "lenet_mnist: %s\n", hits.status().message().c_str());
    return 1;
  }
  // The same model as ONNX (what makertbin writes as _original_float_model.onnx).
  const fs::path onnx_path = fs::temp_directory_path() / "lenet_mnist_original_float_model.onnx";
  Status s = export_onnx(*g, onnx_path.string());
  auto g2 = s.ok() ? import_onnx(onnx_path.string()) : Result<Graph>(s);
  if (!g2.ok()) {
    std::fprintf(stderr, "lenet_mnist: ONNX round trip: %s\n", g2.status().message().c_str());
    return 1;
  }
  auto hits2 = evaluate(*g2, *m, &t_onnx);
  fs::remove(onnx_path);
  if (!hits2.ok()) {
    std::fprintf(stderr, "lenet_mnist: ONNX round trip: %s\n", hits2.status().message().c_str());
    return 1;
  }
  const double n = static_cast<double>(m->count);
  std::printf("LeNet (Caffe) on MNIST t10k, %lld images, batch %lld, float engine\n", static_cast<long long>(m->count),
              static_cast<long long>(kBatch));
  std::printf("%-26s %8s %10s %12s\n", "model", "top-1", "time s", "images/s");
  std::printf("%-26s %7.2f%% %10.3f %12.0f\n", "caffe import", 100.0 * static_cast<double>(*hits) / n, t_caffe, n / t_caffe);
  std::printf("%-26s %7.2f%% %10.3f %12.0f\n", "exported ONNX re-imported", 100.0 * static_cast<double>(*hits2) / n, t_onnx,
              n / t_onnx);
  std::printf("Caffe's reference for this model: 99.04%%; ratio caffe/onnx time %.2f\n", t_caffe / t_onnx);
  return *hits == *hits2 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) { return run(argc, argv); }
