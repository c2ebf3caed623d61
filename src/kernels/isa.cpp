// CPU feature detection for the kernel tables (see isa.h).
#include "kernels/isa.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#endif

namespace qmap::kernels {

namespace {

#if defined(__x86_64__) && defined(__GNUC__)
// AVX-VNNI: cpuid leaf 7 subleaf 1, EAX bit 4. Read directly because clang 14's
// __builtin_cpu_supports does not know "avxvnni" (gcc 12's does); the caller has checked
// AVX2 through __builtin_cpu_supports, which includes the OS saving the ymm state.
[[maybe_unused]] bool has_avx_vnni() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid_count(7, 1, &a, &b, &c, &d) == 0) return false;
  return (a >> 4) & 1u;
}
#endif

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kRef: return "ref";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvxVnni: return "avxvnni";
    case Isa::kAvx512Vnni: return "avx512vnni";
  }
  return "?";
}

std::vector<Isa> host_isas() {
  std::vector<Isa> out{Isa::kRef};
#if defined(__x86_64__) && defined(__GNUC__)
  // libgcc's cpuid reader also checks the OS saves ymm/zmm state (XGETBV), so a level is
  // reported only when its registers are usable.
  __builtin_cpu_init();
#if QMAP_HAVE_AVX2
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (avx2) out.push_back(Isa::kAvx2);
#if QMAP_HAVE_AVXVNNI
  if (avx2 && has_avx_vnni()) out.push_back(Isa::kAvxVnni);
#endif
#if QMAP_HAVE_AVX512VNNI
  if (avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vnni"))
    out.push_back(Isa::kAvx512Vnni);
#endif
#endif
#endif
  return out;
}

std::vector<Isa> compiled_isas() {
  std::vector<Isa> out{Isa::kRef};
#if QMAP_HAVE_AVX2
  out.push_back(Isa::kAvx2);
#endif
#if QMAP_HAVE_AVXVNNI
  out.push_back(Isa::kAvxVnni);
#endif
#if QMAP_HAVE_AVX512VNNI
  out.push_back(Isa::kAvx512Vnni);
#endif
  return out;
}

Isa best_host_isa() { return host_isas().back(); }

bool parse_isa(const std::string& value, Isa* isa, std::string* error) {
  const std::vector<Isa> have = host_isas();
  std::string list;
  for (Isa i : have) list += std::string(list.empty() ? "" : ", ") + isa_name(i);
  for (Isa i : {Isa::kRef, Isa::kAvx2, Isa::kAvxVnni, Isa::kAvx512Vnni}) {
    if (value != isa_name(i)) continue;
    for (Isa h : have)
      if (h == i) {
        *isa = i;
        return true;
      }
    *error = "QMAP_ISA '" + value + "': this CPU (or this build) has no " + value + "; it has: " + list;
    return false;
  }
  *error = "QMAP_ISA '" + value + "': not an ISA level (ref, avx2, avxvnni, avx512vnni); this CPU has: " + list;
  return false;
}

}  // namespace qmap::kernels
