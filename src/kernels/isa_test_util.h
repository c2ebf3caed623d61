// The kernel tests' one check of what this CPU runs, and the skip that goes with it.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "kernels/isa.h"

namespace qmap::kernels::testing {

// Whether this CPU can run `isa`'s kernels (host_isas: cpuid and the OS's saved state).
inline bool host_has_isa(Isa isa) {
  const std::vector<Isa> isas = host_isas();
  return std::find(isas.begin(), isas.end(), isa) != isas.end();
}

}  // namespace qmap::kernels::testing

// In a TEST body: skips the test on CPUs without `isa`; `name` is a string literal.
#define QMAP_REQUIRE_ISA(isa, name) \
  if (!::qmap::kernels::testing::host_has_isa(isa)) GTEST_SKIP() << "this CPU has no " name
