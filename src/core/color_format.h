// Pixel formats and layouts of image inputs: the header-only enums shared by the runtime (a
// .bin's input metadata, program/bin_format.h) and the toolchain's YAML input_parameters
// (config/input_spec.h, which adds the names and parsers). No dependencies, so the runtime
// layer can use them without including config/.
#pragma once

namespace qmap {

// Pixel formats. kNv12 exists only at run time (input_type_rt): the quantized ONNX models
// represent it as kYuv444 (chroma upsampled by the runtime), see docs/yaml.md.
enum class ColorType { kRgb, kBgr, kYuv444, kNv12, kGray, kFeaturemap };
enum class Layout { kNCHW, kNHWC };
// input_space_and_range: YUV range of yuv444/nv12 runtime inputs. kRegular is BT.601 full
// range (JPEG: Y, U, V in 0..255); kBt601Video is studio range (Y 16..235, UV 16..240).
enum class ColorRange { kRegular, kBt601Video };

}  // namespace qmap
