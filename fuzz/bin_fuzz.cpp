// libFuzzer harness: .bin bytes -> the runtime's Model::load_from_memory (the reader that
// trusts nothing, then prepare: kernel selection, weight packing, memory plan) and, when it
// loads, one run on zero inputs. Any input must load and run, or be refused with rt::Error.
#include <vector>

#include "fuzz/fuzz_util.h"
#include "qmap/runtime.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const qmap::rt::Model model = qmap::rt::Model::load_from_memory(data, size, "fuzz.bin");
    qmap::rt::Context ctx(model);
    for (size_t i = 0; i < model.inputs().size(); ++i) {
      const std::vector<std::byte> zero(model.inputs()[i].input_bytes());
      ctx.set_input(i, zero.data(), zero.size());
    }
    ctx.run();
    for (size_t o = 0; o < model.outputs().size(); ++o) (void)ctx.output_float(o);
  } catch (const qmap::rt::Error&) {
  }
  return 0;
}
