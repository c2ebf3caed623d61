// qmap_consumer: runs a .bin (written by `qmap makertbin`) on one raw input file with the qmap
// runtime library, prints each output's top-5 and writes output 0 as raw float32.
//
//   qmap_consumer model.bin input.raw [output0.raw]
//
// The runtime takes input bytes, not images (it has no image decoder, so it links only the
// C/C++ runtime libraries): input.raw holds exactly the bytes of the model's input as the
// makertbin YAML's input_type_rt / input_layout_rt describe it, e.g. 224*224*3 uint8 RGB
// pixels in NHWC order (`qmap preprocess` writes such files from JPEG/PNG images).
#include <qmap/runtime.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <numeric>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4) {
    std::fprintf(stderr, "usage: qmap_consumer model.bin input.raw [output0.raw]\n");
    return 2;
  }
  try {
    std::printf("qmap runtime %s\n", qmap::rt::version().version.c_str());
    const qmap::rt::Model model = qmap::rt::Model::load(argv[1]);
    if (model.inputs().size() != 1) throw qmap::rt::Error(std::string(argv[1]) + ": this example feeds one input");
    const qmap::rt::TensorDesc& in = model.inputs()[0];

    std::ifstream f(argv[2], std::ios::binary);
    if (!f) throw qmap::rt::Error(std::string(argv[2]) + ": cannot open");
    const std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (bytes.size() != in.input_bytes())
      throw qmap::rt::Error(std::string(argv[2]) + ": " + std::to_string(bytes.size()) + " bytes, but input '" +
                            in.name + "' (" + qmap::rt::elem_type_name(in.dtype) + " " +
                            qmap::rt::color_type_name(in.color) + " " + qmap::rt::layout_name(in.layout) +
                            ") takes " + std::to_string(in.input_bytes()));

    qmap::rt::Context ctx(model);
    ctx.set_input(0, bytes.data(), bytes.size());
    ctx.run();
    std::printf("kernels: %s\n", model.isa().c_str());
    for (size_t k = 0; k < model.outputs().size(); ++k) {
      const std::vector<float> out = ctx.output_float(k);
      std::vector<size_t> order(out.size());
      std::iota(order.begin(), order.end(), 0);
      const size_t top = std::min<size_t>(5, out.size());
      std::partial_sort(order.begin(), order.begin() + top, order.end(),
                        [&](size_t a, size_t b) { return out[a] > out[b] || (out[a] == out[b] && a < b); });
      std::printf("output '%s' top-%zu:", model.outputs()[k].name.c_str(), top);
      for (size_t i = 0; i < top; ++i) std::printf(" %zu:%.6g", order[i], out[order[i]]);
      std::printf("\n");
      if (k == 0 && argc == 4) {
        std::ofstream o(argv[3], std::ios::binary);
        o.write(reinterpret_cast<const char*>(out.data()), static_cast<std::streamsize>(out.size() * sizeof(float)));
        if (!o.flush()) throw qmap::rt::Error(std::string(argv[3]) + ": cannot write");
      }
    }
  } catch (const qmap::rt::Error& e) {
    std::fprintf(stderr, "ERROR qmap_consumer: %s\n", e.what());
    return 1;
  }
  return 0;
}
