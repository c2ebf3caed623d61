// libFuzzer harness: calibration raw files -> CalibDataset (open: folder listing, exact
// sizes; load_training; load_runtime: color conversion, rounding, clamping, nv12 4:2:0).
// Input = 3 header bytes + the file's bytes:
//   byte 0: bits 0-2 type_train, bits 3-5 type_rt (rgb, bgr, gray, yuv444, nv12 as runtime
//           only, featuremap), bit 6 the layouts, bit 7 float32 (file named <stem>_f32.bin);
//   byte 1: height 1..8 (bits 0-2) and width 1..8 (bits 3-5): even sizes exist for nv12;
//           bit 6 the video range; bit 7 batch 2.
//   byte 2: unused by the spec, mutated freely.
// Float32 files carry any bit patterns (NaN, inf, huge values), uint8 files any bytes.
#include <filesystem>

#include "calib/dataset.h"
#include "fuzz/fuzz_util.h"

namespace {
qmap::ColorType color_of(int k, bool runtime) {
  static constexpr qmap::ColorType kTypes[] = {qmap::ColorType::kRgb,    qmap::ColorType::kBgr,
                                               qmap::ColorType::kGray,   qmap::ColorType::kYuv444,
                                               qmap::ColorType::kNv12,   qmap::ColorType::kFeaturemap};
  qmap::ColorType t = kTypes[k % 6];
  if (!runtime && t == qmap::ColorType::kNv12) t = qmap::ColorType::kYuv444;  // nv12 trains as yuv444
  return t;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const uint8_t a = data[0], b = data[1];
  qmap::InputSpec spec;
  spec.name = "input";
  spec.type_train = color_of(a & 7, false);
  spec.type_rt = color_of((a >> 3) & 7, true);
  if ((spec.type_train == qmap::ColorType::kFeaturemap) != (spec.type_rt == qmap::ColorType::kFeaturemap))
    spec.type_rt = spec.type_train;  // the config reader allows featuremap only on both sides
  spec.layout_train = (a & 64) ? qmap::Layout::kNHWC : qmap::Layout::kNCHW;
  spec.layout_rt = (a & 64) ? qmap::Layout::kNCHW : qmap::Layout::kNHWC;
  spec.range = (b & 64) ? qmap::ColorRange::kBt601Video : qmap::ColorRange::kRegular;
  const int64_t h = 1 + (b & 7), w = 1 + ((b >> 3) & 7), n = (b & 128) ? 2 : 1;
  const int64_t c = spec.type_train == qmap::ColorType::kGray ? 1 : 3;
  spec.shape = spec.layout_train == qmap::Layout::kNCHW ? std::vector<int64_t>{n, c, h, w}
                                                        : std::vector<int64_t>{n, h, w, c};
  const bool f32 = a & 128;
  static const std::filesystem::path dir = qmap::fuzz::scratch_dir() / "calib";
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::filesystem::create_directories(dir);
  qmap::fuzz::write_scratch(std::string("calib/s0") + (f32 ? "_f32.bin" : ".bin"),
                            qmap::fuzz::as_text(data + 3, size - 3));
  auto ds = qmap::CalibDataset::open({spec}, {dir.string()}, {}, false);
  if (!ds.ok()) return 0;
  (void)ds->load_training(0);
  (void)ds->load_runtime(0);
  return 0;
}
