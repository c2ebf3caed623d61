// Kernel buffers (isa_vector.h): the per-model WeightArena and big_buffer_alloc's three sources
// (arena, heap, own mapping), and fast kernels prepared inside an arena scope staying bit-exact
// with the reference (their packed weights then live in the arena).
#include "kernels/isa_vector.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "kernels/qconv_kernel_internal.h"
#include "kernels/qconv_test_util.h"

namespace qmap::kernels {
namespace {

TEST(WeightArena, HandsOutAlignedDisjointWritableBlocksAcrossChunks) {
  WeightArena arena;
  std::vector<std::pair<uintptr_t, uintptr_t>> blocks;  // [begin, end)
  // 40 MiB is more than one 32 MiB chunk: the arena must open a second one.
  for (size_t bytes : {size_t{100}, size_t{64}, size_t{1} << 20, size_t{40} << 20, size_t{3000}}) {
    auto* p = static_cast<std::byte*>(arena.allocate(bytes));
    ASSERT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u) << bytes;
    std::memset(p, 0x3c, bytes);  // writable, all of it
    const uintptr_t b = reinterpret_cast<uintptr_t>(p);
    for (const auto& [b0, e0] : blocks) EXPECT_TRUE(b + bytes <= b0 || b >= e0) << "blocks overlap";
    blocks.push_back({b, b + bytes});
  }
}

TEST(WeightArena, BigBuffersComeFromTheScopesArenaElseHeapOrMapping) {
  for (size_t bytes : {size_t{1}, size_t{16} << 10, size_t{300} << 10, size_t{5} << 20}) {  // heap, mapping, huge
    void* p = big_buffer_alloc(bytes);
    ASSERT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u);
    std::memset(p, 1, bytes);
    big_buffer_free(p, bytes);
  }
  WeightArena arena;
  {
    const WeightArenaScope scope(arena);
    IsaVector<int8_t, 0> v(size_t{1} << 20, 7);  // from the arena; freeing it is a no-op
    EXPECT_EQ(v[12345], 7);
    {
      WeightArena inner;
      const WeightArenaScope nested(inner);  // scopes nest; the outer one is back after
      IsaVector<int8_t, 0> w(size_t{64} << 10, 1);
    }
    IsaVector<int32_t, 0> u(size_t{64} << 10, -1);
    EXPECT_EQ(u.back(), -1);
    // Small vectors too: a table of 3 ints lies between two blocks taken around it.
    const auto* before = static_cast<const std::byte*>(arena.allocate(64));
    IsaVector<int32_t, 0> small(3, 5);
    const auto* after_small = static_cast<const std::byte*>(arena.allocate(64));
    const auto* at = reinterpret_cast<const std::byte*>(small.data());
    EXPECT_TRUE(at > before && at < after_small) << "a small vector in a scope is not from its arena";
  }
  IsaVector<int16_t, 0> heap(7, 2);  // small, no scope: the heap
  heap.push_back(3);
  EXPECT_EQ(heap.back(), 3);
  IsaVector<int8_t, 0> after(size_t{1} << 20, 3);  // no scope: its own mapping again
  EXPECT_EQ(after[0], 3);
}

// A layer whose packed weights (256 x 64 x 3 x 3 = 147 KiB) come from an arena, on every

// A released arena that used only its first huge page leaves its chunk as the spare, which the
// next arena starts on (no fresh page to fault in and zero); one that used more is unmapped,
// and the next starts on a chunk of its own. Vectors from a reused chunk still start as their
// constructors say (the spare's old bytes never show).
TEST(WeightArena, ASmallArenasChunkIsTheNextArenasSpare) {
  std::byte* first = nullptr;
  {
    WeightArena a;
    first = static_cast<std::byte*>(a.allocate(512 << 10));
    std::memset(first, 0x5a, 512 << 10);
  }
  {
    WeightArena b;
    const auto* start = static_cast<const uint8_t*>(b.allocate(64));
    EXPECT_EQ(static_cast<const void*>(start), first);
    EXPECT_EQ(start[0], 0x5a) << "the small arena's chunk was not reused (a fresh mapping is zeros)";
    const WeightArenaScope scope(b);
    IsaVector<int32_t, 0> v(size_t{64} << 10);  // value-initialized, over the spare's 0x5a bytes
    for (int32_t x : v) ASSERT_EQ(x, 0);
    std::byte* big = static_cast<std::byte*>(b.allocate(size_t{3} << 20));  // past the first huge page
    std::memset(big, 1, size_t{3} << 20);
  }
  // b used 3 MiB: unmapped, not kept. A reused chunk would start with a's 0x5a bytes (b never
  // wrote its first 64); a fresh mapping is zeros (its address may well be the same).
  WeightArena c;
  const auto* fresh = static_cast<const uint8_t*>(c.allocate(64));
  EXPECT_EQ(fresh[0], 0) << "a big arena's chunk became the spare";
}
// fast ISA this host has, bit-exact with the reference.
TEST(WeightArena, KernelsPreparedInAnArenaMatchTheReference) {
  WeightArena arena;
  const WeightArenaScope scope(arena);
  testing::ConvCase c;
  c.g.n = 1, c.g.c = 64, c.g.h = 10, c.g.w = 11, c.g.m = 256, c.g.kh = 3, c.g.kw = 3;
  c.g.stride_h = c.g.stride_w = 1, c.g.dil_h = c.g.dil_w = 1, c.g.pad_top = c.g.pad_left = 1, c.g.group = 1;
  c.pad_bottom = c.pad_right = 1;
  int ran = 0;
#if QMAP_HAVE_AVX512VNNI
  if (testing::host_has_isa(Isa::kAvx512Vnni)) {
    testing::expect_matches_ref(make_qconv_gemm_avx512vnni, "qconv_gemm_avx512vnni", c);
    ++ran;
  }
#endif
#if QMAP_HAVE_AVXVNNI
  if (testing::host_has_isa(Isa::kAvxVnni)) {
    testing::expect_matches_ref(make_qconv_gemm_avxvnni, "qconv_gemm_avxvnni", c);
    ++ran;
  }
#endif
#if QMAP_HAVE_AVX2
  if (testing::host_has_isa(Isa::kAvx2)) {
    testing::expect_matches_ref(make_qconv_gemm_avx2, "qconv_gemm_avx2", c);
    ++ran;
  }
#endif
  if (ran == 0) GTEST_SKIP() << "no fast ISA on this host";
}

}  // namespace
}  // namespace qmap::kernels
