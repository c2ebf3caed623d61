// libFuzzer harness: calibration table text -> parse_calib_table. A table that parses must
// survive a round trip: format_calib_table's text parses again to the same text (the table
// makertbin writes is read back by --calibration-table).
#include <cstdio>
#include <cstdlib>

#include "calib/calib_table.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto table = qmap::parse_calib_table(qmap::fuzz::as_text(data, size), "fuzz_table.txt");
  if (!table.ok()) return 0;
  const std::string text = qmap::format_calib_table(*table);
  auto again = qmap::parse_calib_table(text, "fuzz_table_formatted.txt");
  if (!again.ok()) {
    std::fprintf(stderr, "formatted table does not parse: %s\n%s\n", again.status().message().c_str(), text.c_str());
    std::abort();
  }
  if (qmap::format_calib_table(*again) != text) {
    std::fprintf(stderr, "formatted table changes on a round trip:\n%s\n", text.c_str());
    std::abort();
  }
  return 0;
}
