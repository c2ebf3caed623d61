// IsaVector<T, Tag>: std::vector with an allocator type of its own per ISA folder.
//
// Why: a file compiled with an ISA's flags (x86_avx2/, x86_avx512vnni/) that uses
// std::vector<int> compiles vector<int>'s out-of-line members (fill, growth) with AVX/AVX-512
// instructions as COMDAT symbols, and the linker may pick that copy for the whole program:
// baseline code would then die with SIGILL on an older CPU than the build's. With an
// allocator type unique to the folder, the instances are distinct symbols that only that
// folder's code calls. The isa_isolation test checks the built binaries for any other leak.
#pragma once

#include <memory>
#include <vector>

namespace qmap::kernels {

template <class T, int Tag>
struct IsaAllocator : std::allocator<T> {
  template <class U>
  struct rebind {
    using other = IsaAllocator<U, Tag>;
  };
  IsaAllocator() = default;
  template <class U>
  IsaAllocator(const IsaAllocator<U, Tag>&) noexcept {}
};

template <class T, int Tag>
using IsaVector = std::vector<T, IsaAllocator<T, Tag>>;

}  // namespace qmap::kernels
