// ProgressBar: the bar text, redraws with '\r' on a terminal, a single final line
// otherwise, nothing when disabled, and thread-safe advance().
#include "core/progress.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace qmap {
namespace {

std::string read_all(FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string s;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  return s;
}

TEST(ProgressBar, FormatsBarCountAndTime) {
  EXPECT_EQ(format_progress(42, 100, 3.14, 10), "[####      ] 42/100 3.1 s");
  EXPECT_EQ(format_progress(0, 100, 0, 4), "[    ] 0/100 0.0 s");
  EXPECT_EQ(format_progress(150, 100, 1, 4), "[####] 100/100 1.0 s");  // clamped
  EXPECT_EQ(format_progress(0, 0, 0, 2), "[##] 0/0 0.0 s");
}

TEST(ProgressBar, NotATerminalPrintsOnlyTheFinalLine) {
  FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    ProgressBar bar("calib", 5, true, f, /*is_tty=*/false);
    for (int i = 0; i < 5; ++i) bar.advance();
    EXPECT_EQ(read_all(f), "");
  }
  const std::string out = read_all(f);
  EXPECT_EQ(out.find('\r'), std::string::npos) << out;
  EXPECT_EQ(out.rfind("calib [", 0), 0u) << out;
  EXPECT_NE(out.find("5/5"), std::string::npos) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  std::fclose(f);
}

TEST(ProgressBar, TerminalRedrawsInPlace) {
  FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    ProgressBar bar("x", 3, true, f, /*is_tty=*/true);
    for (int i = 0; i < 3; ++i) bar.advance();  // the last step always draws
    bar.finish();
    bar.finish();  // once only
  }
  const std::string out = read_all(f);
  EXPECT_EQ(out.front(), '\r') << out;
  EXPECT_GE(std::count(out.begin(), out.end(), '\r'), 3) << out;  // start, last step, final
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  EXPECT_NE(out.find("3/3"), std::string::npos) << out;
  std::fclose(f);
}

TEST(ProgressBar, DisabledPrintsNothingAndAdvanceIsThreadSafe) {
  FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    ProgressBar off("x", 10, false, f, true);
    off.advance(10);
  }
  EXPECT_EQ(read_all(f), "");
  {
    ProgressBar bar("x", 4000, true, f, false);
    std::vector<std::thread> ts;
    for (int t = 0; t < 4; ++t)
      ts.emplace_back([&] {
        for (int i = 0; i < 1000; ++i) bar.advance();
      });
    for (auto& t : ts) t.join();
  }
  EXPECT_NE(read_all(f).find("4000/4000"), std::string::npos);
  std::fclose(f);
}

}  // namespace
}  // namespace qmap
