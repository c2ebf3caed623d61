#include "core/huge_pages.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <new>

namespace qmap {
namespace {
constexpr size_t kHuge = size_t{2} << 20;
size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }
}  // namespace

HugeMapping map_huge(size_t bytes) {
  HugeMapping m;
  m.len = round_up(std::max<size_t>(bytes, 1), kHuge) + kHuge;  // room to align to 2 MiB
  m.base = ::mmap(nullptr, m.len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m.base == MAP_FAILED) throw std::bad_alloc();
  m.data = reinterpret_cast<std::byte*>(round_up(reinterpret_cast<uintptr_t>(m.base), kHuge));
  ::madvise(m.data, m.len - kHuge, MADV_HUGEPAGE);  // a hint: failure is harmless
  return m;
}

void unmap_huge(const HugeMapping& m) {
  if (m.base != nullptr) ::munmap(m.base, m.len);
}

std::shared_ptr<std::byte[]> alloc_huge_shared(size_t bytes) {
  if (bytes >= (size_t{1} << 20)) {
    const HugeMapping m = map_huge(bytes);
    return std::shared_ptr<std::byte[]>(m.data, [m](std::byte*) { unmap_huge(m); });
  }
  auto* p = static_cast<std::byte*>(::operator new[](std::max<size_t>(bytes, 64), std::align_val_t(64)));
  return std::shared_ptr<std::byte[]>(p, [](std::byte* q) { ::operator delete[](q, std::align_val_t(64)); });
}

}  // namespace qmap
