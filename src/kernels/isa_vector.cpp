// Large kernel buffers (isa_vector.h): from the current thread's WeightArena, else the heap or
// a mapping of their own. Each is preceded by a 64-byte header saying which, so freeing needs
// no lookup: arena buffers are released with their arena, the others freed or unmapped.
#include "kernels/isa_vector.h"

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <utility>

#include "core/huge_pages.h"

namespace qmap::kernels {
namespace {

constexpr size_t kHuge = size_t{2} << 20;
constexpr size_t kHeader = 64;
constexpr uint64_t kFromArena = 0x41524e41ull, kFromMap = 0x4d4d4150ull, kFromHeap = 0x48454150ull;
constexpr size_t kMapBytes = size_t{256} << 10;  // smaller buffers outside an arena: the heap

struct Header {
  uint64_t kind;
  void* base;   // the mapping (kFromMap)
  size_t len;   // its length
};

thread_local WeightArena* current_arena = nullptr;

// An arena's chunk: 32 MiB of address space, pages touched as used.
constexpr size_t kChunkBytes = size_t{32} << 20;

// The spare chunk: the last released arena's, kept when that arena used no more than its
// first huge page (the per-channel tables of a model whose .bin holds its packed weights:
// ResNet-50's are 0.5 MB). The next arena starts on it instead of faulting in and zeroing a
// fresh 2 MiB page (about 80 us, an eighth of such a load); at most one, so what stays
// resident after the last model goes is bounded by one huge page.
std::mutex spare_mutex;
HugeMapping spare;  // guarded by spare_mutex; base == nullptr: none

size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

}  // namespace

void* big_buffer_alloc(size_t bytes) {
  if (WeightArena* a = current_arena) {
    auto* h = static_cast<std::byte*>(a->allocate(bytes + kHeader));
    const Header hd{kFromArena, nullptr, 0};
    std::memcpy(h, &hd, sizeof hd);
    return h + kHeader;
  }
  if (bytes + kHeader < kMapBytes) {
    void* base = ::operator new(bytes + kHeader, std::align_val_t(64));
    const Header hd{kFromHeap, base, 0};
    std::memcpy(base, &hd, sizeof hd);
    return static_cast<std::byte*>(base) + kHeader;
  }
  const size_t len = round_up(bytes + kHeader, 4096);
  void* base = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) throw std::bad_alloc();
  if (len >= kHuge) ::madvise(base, len, MADV_HUGEPAGE);
  const Header hd{kFromMap, base, len};
  std::memcpy(base, &hd, sizeof hd);
  return static_cast<std::byte*>(base) + kHeader;
}

void big_buffer_free(void* p, size_t /*bytes*/) {
  Header hd;
  std::memcpy(&hd, static_cast<std::byte*>(p) - kHeader, sizeof hd);
  if (hd.kind == kFromMap) ::munmap(hd.base, hd.len);
  else if (hd.kind == kFromHeap) ::operator delete(hd.base, std::align_val_t(64));
  // kFromArena: released with the arena.
}

void* WeightArena::allocate(size_t bytes) {
  bytes = round_up(bytes, 64);
  if (next_ == nullptr || static_cast<size_t>(end_ - next_) < bytes) {
    if (n_chunks_ == cap_chunks_) {
      const size_t cap = cap_chunks_ ? 2 * cap_chunks_ : 8;
      auto* c = static_cast<HugeMapping*>(std::realloc(chunks_, cap * sizeof(HugeMapping)));
      if (c == nullptr) throw std::bad_alloc();
      chunks_ = c;
      cap_chunks_ = cap;
    }
    const size_t want = bytes > kChunkBytes ? bytes : kChunkBytes;  // virtual; touched pages only
    HugeMapping m;
    if (want == kChunkBytes) {
      const std::lock_guard<std::mutex> lock(spare_mutex);
      std::swap(m, spare);
    }
    if (m.base == nullptr) m = map_huge(want);
    next_ = m.data;
    end_ = m.data + round_up(want, kHuge);
    chunks_[n_chunks_++] = m;
  }
  void* p = next_;
  next_ += bytes;
  return p;
}

WeightArena::~WeightArena() {
  // Only a lone chunk that stayed within its first huge page may become the spare (it is then
  // one of kChunkBytes: a bigger request would have taken it past that page).
  if (n_chunks_ == 1 && next_ <= chunks_[0].data + kHuge) {
    const std::lock_guard<std::mutex> lock(spare_mutex);
    if (spare.base == nullptr) std::swap(spare, chunks_[0]);
  }
  for (size_t i = 0; i < n_chunks_; ++i) unmap_huge(chunks_[i]);  // a chunk given to the spare is empty now
  std::free(chunks_);
}

WeightArenaScope::WeightArenaScope(WeightArena& arena) : previous_(current_arena) { current_arena = &arena; }
WeightArenaScope::~WeightArenaScope() { current_arena = previous_; }

}  // namespace qmap::kernels
