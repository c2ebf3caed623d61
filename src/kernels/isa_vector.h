// IsaVector<T, Tag>: std::vector with an allocator type of its own per ISA folder.
//
// Why: a file compiled with an ISA's flags (x86_avx2/, x86_avx512vnni/) that uses
// std::vector<int> compiles vector<int>'s out-of-line members (fill, growth) with AVX/AVX-512
// instructions as COMDAT symbols, and the linker may pick that copy for the whole program:
// baseline code would then die with SIGILL on an older CPU than the build's. With an
// allocator type unique to the folder, the instances are distinct symbols that only that
// folder's code calls. The isa_isolation test checks the built binaries for any other leak.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "core/huge_pages.h"

namespace qmap::kernels {

// Kernel buffers (every IsaVector's: packed weights and per-channel tables, prepared once at
// load) come from the WeightArena of the current WeightArenaScope when there is one (the
// runtime's prepare), else from the heap or, from 256 KiB, a mapping of their own. Page faults
// dominate a load otherwise: touching a fresh 4 KiB page costs microseconds (15 us on the
// development VM), 2 MiB huge pages cost 20-40x less per byte, and an arena shares them
// between the many buffers of one model, small ones included (ResNet-50's 0.3 MB of tables
// under 16 KiB each were 75 heap page faults, a quarter of a first load).
// Baseline code (isa_vector.cpp).
void* big_buffer_alloc(size_t bytes);  // throws std::bad_alloc; 64-byte aligned
void big_buffer_free(void* p, size_t bytes);

// Memory for one model's packed weights: 2 MiB-aligned chunks with transparent huge pages
// requested, handed out in order and released together when the arena goes away (a lone
// chunk that used only its first huge page is kept as the process's one spare, which the
// next arena starts on). The arena must outlive every buffer taken from it (the executor
// ties it to its kernels' lifetime). Memory from it is not zeroed: a spare holds old bytes.
class WeightArena {
 public:
  WeightArena() = default;
  WeightArena(const WeightArena&) = delete;
  WeightArena& operator=(const WeightArena&) = delete;
  ~WeightArena();
  void* allocate(size_t bytes);  // 64-byte aligned; throws std::bad_alloc

 private:
  HugeMapping* chunks_ = nullptr;  // a plain array: no std::vector instance in headers ISA code includes
  size_t n_chunks_ = 0, cap_chunks_ = 0;
  std::byte* next_ = nullptr;
  std::byte* end_ = nullptr;
};

// While alive, big kernel buffers that this thread allocates come from `arena`.
class WeightArenaScope {
 public:
  explicit WeightArenaScope(WeightArena& arena);
  ~WeightArenaScope();
  WeightArenaScope(const WeightArenaScope&) = delete;
  WeightArenaScope& operator=(const WeightArenaScope&) = delete;

 private:
  WeightArena* previous_;
};

template <class T, int Tag>
struct IsaAllocator : std::allocator<T> {
  template <class U>
  struct rebind {
    using other = IsaAllocator<U, Tag>;
  };
  IsaAllocator() = default;
  template <class U>
  IsaAllocator(const IsaAllocator<U, Tag>&) noexcept {}

  T* allocate(size_t n) { return static_cast<T*>(big_buffer_alloc(n * sizeof(T))); }
  void deallocate(T* p, size_t n) { big_buffer_free(p, n * sizeof(T)); }
};

template <class T, int Tag>
using IsaVector = std::vector<T, IsaAllocator<T, Tag>>;

}  // namespace qmap::kernels
