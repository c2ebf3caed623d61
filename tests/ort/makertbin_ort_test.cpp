// makertbin's three ONNX outputs in ONNX Runtime (issue 4, item 6): tests/data/models/tiny_cnn
// (1x3x16x16 float, trained as rgb NCHW with ImageNet mean/scale) converted in-process for
// several runtime input types, then:
//   - the original float model, fed a uint8 runtime image, equals the input model fed the
//     same pixels preprocessed by hand ((x - mean) * scale, NCHW, color converted): 1e-5 of the
//     output range (the preprocess node is exact in float);
//   - ORT runs the original and optimized float models unchanged and agrees with qmap's float
//     engine within 1e-5 of the output range;
//   - ORT runs the quantized QDQ model unchanged; its output (Softmax probabilities, computed
//     in float on the CPU from int8 logits) agrees with qmap's integer simulator within 2% of
//     the output range: ORT requantizes with float multipliers and may land one step off on
//     a logit (docs/quantization.md).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "core/log.h"
#include "engine/float_engine.h"
#include "image/color.h"
#include "import/onnx/onnx_import.h"
#include "makertbin/makertbin.h"
#include "ort_peer.h"
#include "quant/int_simulator.h"

namespace qmap {
namespace {

namespace fs = std::filesystem;

struct RtCase {
  std::string name;
  std::string type_rt, layout_rt;
};

const float kMean[3] = {123.675f, 116.28f, 103.53f};
const float kScale[3] = {0.017125f, 0.017507f, 0.017429f};

class MakertbinOrt : public ::testing::TestWithParam<RtCase> {};

fs::path work_dir(const std::string& name) {
  const fs::path d = fs::path(QMAP_BINARY_DIR) / "tests" / "ort" / "work" / ("makertbin_" + name);
  fs::remove_all(d);
  fs::create_directories(d / "calib");
  return d;
}

// Runtime input (uint8, layout_rt, color type_rt; nv12 as yuv444) whose RGB pixels are `rgb`
// (HWC, 16x16x3), and the float NCHW tensor the original model's training expects.
struct Pixels {
  Tensor runtime;
  Tensor trained;  // 1x3x16x16 float: (rgb - mean) * scale, in training rgb order
};

Pixels make_pixels(const RtCase& c, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> u(0, 255);
  const int H = 16, W = 16;
  std::vector<double> rgb(H * W * 3);
  for (auto& v : rgb) v = u(rng);
  Pixels p;
  const bool nhwc = c.layout_rt == "NHWC";
  p.runtime = Tensor(DType::kUInt8, nhwc ? Dims{1, H, W, 3} : Dims{1, 3, H, W});
  p.trained = Tensor(DType::kFloat32, {1, 3, H, W});
  auto rt = p.runtime.data<uint8_t>();
  auto tr = p.trained.data<float>();
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) {
      const double* px = &rgb[static_cast<size_t>((y * W + x) * 3)];
      double stored[3] = {px[0], px[1], px[2]};
      double seen[3] = {px[0], px[1], px[2]};  // what the model's training pipeline sees
      if (c.type_rt == "bgr") {
        stored[0] = px[2];
        stored[2] = px[0];
      } else if (c.type_rt == "yuv444") {
        // Full-range BT.601 YUV of the pixel, rounded to bytes; the model sees the RGB the
        // inverse conversion gives back (clamped like a real conversion).
        uint8_t q[3];
        for (int k = 0; k < 3; ++k) {
          double v = color::kYuvOffsetFull[k];
          for (int j = 0; j < 3; ++j) v += color::kRgbToYuvFull[k][j] * px[j];
          q[k] = static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L));
          stored[k] = q[k];
        }
        for (int k = 0; k < 3; ++k) {
          double v = 0;
          for (int j = 0; j < 3; ++j) v += color::kYuvToRgbFull[k][j] * (q[j] - color::kYuvOffsetFull[j]);
          seen[k] = std::clamp(v, 0.0, 255.0);
        }
      }
      for (int k = 0; k < 3; ++k) {
        const size_t ri = nhwc ? static_cast<size_t>((y * W + x) * 3 + k) : static_cast<size_t>((k * H + y) * W + x);
        rt[ri] = static_cast<uint8_t>(stored[k]);
        tr[static_cast<size_t>((k * H + y) * W + x)] = static_cast<float>((seen[k] - kMean[k]) * kScale[k]);
      }
    }
  return p;
}

Status write_calibration(const fs::path& dir, int n) {
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> u(0, 255);
  for (int i = 0; i < n; ++i) {
    std::string bytes(3 * 16 * 16, '\0');
    for (auto& b : bytes) b = static_cast<char>(u(rng));
    std::ofstream(dir / ("s" + std::to_string(i) + ".bin"), std::ios::binary) << bytes;
  }
  return ok_status();
}

TEST_P(MakertbinOrt, OutputsRunInOrtAndMatchQmap) {
  const auto& status = ort_peer::default_peer_status();
  ASSERT_TRUE(status.ok()) << status.status().message();
  const RtCase& c = GetParam();
  const fs::path dir = work_dir(c.name);
  ASSERT_TRUE(write_calibration(dir / "calib", 6).ok());
  const std::string model = std::string(QMAP_SOURCE_DIR) + "/tests/data/models/tiny_cnn.onnx";
  std::ofstream(dir / "cfg.yaml") << "model_parameters:\n  onnx_model: '" << model
                                  << "'\n  march: generic\n  working_dir: out\n  output_model_file_prefix: tiny\n"
                                     "input_parameters:\n  input_name: input\n  input_shape: 1x3x16x16\n"
                                     "  input_type_train: rgb\n  input_layout_train: NCHW\n  input_type_rt: "
                                  << c.type_rt << "\n  input_layout_rt: " << c.layout_rt
                                  << "\n  norm_type: data_mean_and_scale\n  mean_value: 123.675 116.28 103.53\n"
                                     "  scale_value: 0.017125 0.017507 0.017429\n"
                                     "calibration_parameters:\n  cal_data_dir: calib\n  calibration_type: kl\n";
  Logger log(nullptr, LogLevel::kInfo);
  MakertbinOptions mo;
  mo.config_path = (dir / "cfg.yaml").string();
  mo.model_type = "onnx";
  mo.progress = false;
  ASSERT_TRUE(run_makertbin(mo, log).ok()) << run_makertbin(mo, log).message();

  const Pixels px = make_pixels(c, 11);
  const fs::path out = dir / "out";
  auto input_model = import_onnx(model);
  auto original = import_onnx((out / "tiny_original_float_model.onnx").string());
  auto optimized = import_onnx((out / "tiny_optimized_float_model.onnx").string());
  auto quantized = import_onnx((out / "tiny_quantized_model.onnx").string());
  ASSERT_TRUE(input_model.ok() && original.ok() && optimized.ok() && quantized.ok());

  // Original (with the preprocess node) vs the input model on hand-preprocessed pixels.
  auto ref = FloatEngine::create(*input_model)->run({px.trained});
  auto orig = FloatEngine::create(*original)->run({px.runtime});
  auto opt = FloatEngine::create(*optimized)->run({px.runtime});
  ASSERT_TRUE(ref.ok() && orig.ok() && opt.ok());
  EXPECT_TRUE(ort_peer::compare((*orig)[0], (*ref)[0]).ok(1e-5)) << "original vs input model";
  EXPECT_TRUE(ort_peer::compare((*opt)[0], (*ref)[0]).ok(1e-5)) << "optimized vs input model";

  const std::string in_name = original->value(original->inputs[0]).name;
  const std::vector<ort_peer::NamedTensor> feed = {{in_name, px.runtime}};
  for (const char* f : {"tiny_original_float_model.onnx", "tiny_optimized_float_model.onnx"}) {
    auto r = ort_peer::run(ort_peer::default_peer(), (out / f).string(), feed);
    ASSERT_TRUE(r.ok()) << f << ": " << r.status().message();
    EXPECT_TRUE(ort_peer::compare((*r)[0].tensor, (*ref)[0]).ok(1e-5)) << f;
  }
  auto sim = IntSimulator::create(*quantized);
  ASSERT_TRUE(sim.ok()) << sim.status().message();
  auto q = sim->run({px.runtime});
  ASSERT_TRUE(q.ok()) << q.status().message();
  auto rq = ort_peer::run(ort_peer::default_peer(), (out / "tiny_quantized_model.onnx").string(), feed);
  ASSERT_TRUE(rq.ok()) << rq.status().message();
  const ort_peer::Diff d = ort_peer::compare((*rq)[0].tensor, (*q)[0]);
  std::printf("[ort] %s quantized: max|diff| %.6f range %.6f\n", c.name.c_str(), d.max_abs_diff, d.range);
  EXPECT_TRUE(d.ok(0.02)) << "ORT vs integer simulator on the quantized model";
}

INSTANTIATE_TEST_SUITE_P(RuntimeTypes, MakertbinOrt,
                         ::testing::Values(RtCase{"rgb_nhwc", "rgb", "NHWC"}, RtCase{"bgr_nchw", "bgr", "NCHW"},
                                           RtCase{"yuv444_nhwc", "yuv444", "NHWC"}),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace qmap
