// libFuzzer harness: .bin bytes -> the runtime's Model::load_from_memory (the reader that
// trusts nothing, then prepare: kernel selection, weight packing, memory plan) and, when it
// loads, one run on zero inputs. Any input must load and run, or be refused with rt::Error.
//
// The header's file size and checksum (docs/format.md §2) are set to match the mutated bytes
// before loading: otherwise nearly every mutation would stop at the checksum check and the
// section, program and cross checks behind it would never be fuzzed. (The checksum check
// itself is a comparison; bin_format_test.cpp feeds it corrupted files.) The patching is
// part of the harness, so a saved crash input replays the same way in every build.
#include <cstring>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "program/bin_format.h"
#include "qmap/runtime.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::byte> bytes(size);
  if (size > 0) std::memcpy(bytes.data(), data, size);
  if (size >= qmap::binfmt::kHeaderSize) {
    const uint64_t file_size = size;
    std::memcpy(bytes.data() + qmap::binfmt::kOffFileSize, &file_size, 8);  // little-endian host
    const uint64_t sum = qmap::binfmt::file_checksum(std::span<const std::byte>(bytes).subspan(qmap::binfmt::kHeaderSize));
    std::memcpy(bytes.data() + qmap::binfmt::kOffChecksum, &sum, 8);
  }
  try {
    const qmap::rt::Model model = qmap::rt::Model::load_from_memory(bytes.data(), bytes.size(), "fuzz.bin");
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
