// libFuzzer harness: .bin bytes -> the runtime's Model::load_from_memory (the reader that
// trusts nothing, then prepare: kernel selection, weight packing, memory plan) and, when it
// loads, one run on zero inputs. Any input must load and run, or be refused with rt::Error.
//
// The header's file size and checksums (docs/format.md §2) are set to match the mutated bytes
// before loading: otherwise nearly every mutation would stop at the checksum check and the
// section, program and cross checks behind it would never be fuzzed. (The checksum check
// itself is a comparison; bin_format_test.cpp feeds it corrupted files.) The patching is
// part of the harness, so a saved crash input replays the same way in every build.
#include <algorithm>
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
    // v6 hashes the bytes before BLOBS apart from BLOBS (found through the section table, as
    // far as the table can be read); older versions hash everything after the header.
    auto u32_at = [&](size_t at) {
      uint32_t v = 0;
      if (at + 4 <= size) std::memcpy(&v, bytes.data() + at, 4);
      return v;
    };
    auto u64_at = [&](size_t at) {
      uint64_t v = 0;
      if (at + 8 <= size) std::memcpy(&v, bytes.data() + at, 8);
      return v;
    };
    const std::span<const std::byte> all(bytes);
    uint64_t sum = 0, payload = 0;
    if (u32_at(qmap::binfmt::kOffVersion) >= 6) {
      uint64_t blobs_at = size;
      const uint64_t table = u64_at(qmap::binfmt::kOffSectionTable);
      const uint32_t n = std::min<uint32_t>(u32_at(qmap::binfmt::kOffSectionCount), 64);
      for (uint32_t i = 0; i < n && table <= size; ++i) {
        const uint64_t e = table + uint64_t{i} * qmap::binfmt::kSectionEntrySize;
        if (e > size || size - e < qmap::binfmt::kSectionEntrySize) break;
        if (u32_at(static_cast<size_t>(e)) == static_cast<uint32_t>(qmap::binfmt::SectionType::kBlobs))
          blobs_at = u64_at(static_cast<size_t>(e + 8));
      }
      const qmap::binfmt::FileChecksums c = qmap::binfmt::file_checksums(all, blobs_at);
      sum = c.structure;
      payload = c.payload;
      std::memcpy(bytes.data() + qmap::binfmt::kOffPayloadChecksum, &payload, 8);
    } else {
      sum = qmap::binfmt::xxh64(all.subspan(qmap::binfmt::kHeaderSize));
    }
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
