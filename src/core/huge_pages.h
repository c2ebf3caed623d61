// Big buffers backed by transparent huge pages. On the machines qmap runs on, the first touch
// of a fresh 4 KiB page costs microseconds (a page fault; more under a hypervisor): about
// 7 ms per MB on the development VM, against 0.2-0.3 ms per MB in 2 MiB huge pages. The file
// buffer of a .bin, the kernels' packed weights and each context's arena use these.
#pragma once

#include <cstddef>
#include <memory>

namespace qmap {

// An anonymous mapping whose `data` is 2 MiB-aligned, at least `bytes` long, with huge pages
// requested (a hint: the kernel may still use 4 KiB pages). Throws std::bad_alloc.
struct HugeMapping {
  std::byte* data = nullptr;
  void* base = nullptr;  // what to unmap
  size_t len = 0;
};
HugeMapping map_huge(size_t bytes);
void unmap_huge(const HugeMapping& m);

// A 64-byte-aligned buffer of `bytes`: a HugeMapping from 1 MiB on, else the heap.
std::shared_ptr<std::byte[]> alloc_huge_shared(size_t bytes);

}  // namespace qmap
