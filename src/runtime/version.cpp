// qmap::rt::version() and qmap_version*(): the release, the git commit and build type recorded
// at configure time (cmake/version.cmake writes build_info.h) and the kernel levels compiled in
// (kernels/isa.h, from QMAP_HAVE_AVX2 / QMAP_HAVE_AVX512VNNI).
#include <string>

#include "kernels/isa.h"
#include "qmap/runtime.h"
#include "qmap/runtime_c.h"
#include "runtime/build_info.h"

namespace qmap::rt {

VersionInfo version() {
  VersionInfo v;
  v.version = QMAP_BUILD_VERSION;
  v.git_commit = QMAP_BUILD_GIT_COMMIT;
  v.build_type = QMAP_BUILD_TYPE;
  if (v.build_type.empty()) v.build_type = "none";
  for (kernels::Isa i : kernels::compiled_isas()) v.isas.push_back(kernels::isa_name(i));
  return v;
}

std::string version_text() {
  const VersionInfo v = version();
  std::string isas;
  for (const std::string& i : v.isas) isas += (isas.empty() ? "" : " ") + i;
  return "qmap " + v.version + "\ngit commit: " + v.git_commit + "\nbuild type: " + v.build_type +
         "\nISAs compiled in: " + isas + "\n";
}

}  // namespace qmap::rt

extern "C" {

const char* qmap_version(void) { return QMAP_BUILD_VERSION; }

const char* qmap_version_text(void) {
  // Built once (thread-safe static initialization), constant afterwards.
  static const std::string text = qmap::rt::version_text();
  return text.c_str();
}

}  // extern "C"
