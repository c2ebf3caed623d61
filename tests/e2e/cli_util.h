// Helpers shared by the end-to-end suites: run the built `qmap` binary in a fresh folder
// per test and capture its exit code, stdout, stderr and a log file.
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "image/decode.h"

namespace qmap::e2e {

namespace fs = std::filesystem;

struct CliRun {
  int code = -1;
  std::string out, err, log;
  fs::path dir;
};

inline std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// The current test's own folder under the build tree ("Suite.Name").
inline fs::path test_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return fs::path(QMAP_E2E_WORK) / (std::string(info->test_suite_name()) + "." + info->name());
}

// Runs `qmap <args>` in `dir` (created if missing; not cleared) and reads `log_file` there.
inline CliRun run_qmap_in(const fs::path& dir, const std::string& args, const std::string& log_file) {
  CliRun r;
  r.dir = dir;
  fs::create_directories(r.dir);
  const std::string cmd = "cd '" + r.dir.string() + "' && '" QMAP_BIN "' " + args +
                          " >stdout.txt 2>stderr.txt </dev/null";
  const int status = std::system(cmd.c_str());
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(r.dir / "stdout.txt");
  r.err = slurp(r.dir / "stderr.txt");
  r.log = slurp(r.dir / log_file);
  return r;
}

inline std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream s(text);
  for (std::string l; std::getline(s, l);) out.push_back(l);
  return out;
}

// An error run: exit 1, exactly one stderr line "ERROR <message>", the same message in the
// log as an ERROR line (when check_log). Returns the message.
inline std::string expect_one_error(const CliRun& r, bool check_log = true) {
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  const auto err = lines(r.err);
  EXPECT_EQ(err.size(), 1u) << r.err;
  if (err.empty() || err[0].rfind("ERROR ", 0) != 0) {
    ADD_FAILURE() << "stderr: " << r.err;
    return "";
  }
  const std::string msg = err[0].substr(6);
  if (check_log) {
    EXPECT_NE(r.log.find(" ERROR " + msg), std::string::npos) << r.log;
  }
  return msg;
}

// Headless Chromium (Debian's chromium, scripts/install-deps.sh) opens `page` from disk; the
// DOM it built is returned (empty after a failure, which is reported). Work files go in `dir`.
inline std::string chromium_dom(const fs::path& page, const fs::path& dir) {
  if (std::system("command -v chromium >/dev/null 2>&1") != 0) {
    ADD_FAILURE() << "chromium missing: run scripts/install-deps.sh";
    return "";
  }
  const std::string flags = "--headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir='" +
                            (dir / "chromium-profile").string() + "'";
  const std::string cmd = "timeout 120 chromium " + flags + " --dump-dom 'file://" + fs::absolute(page).string() +
                          "' >'" + (dir / "dom.html").string() + "' 2>/dev/null";
  if (std::system(cmd.c_str()) != 0) {
    ADD_FAILURE() << cmd;
    return "";
  }
  return slurp(dir / "dom.html");
}

// Headless Chromium's screenshot of `page` (1200x1600) as a PNG in `dir`; returns its path,
// empty after a failure (reported).
inline fs::path chromium_screenshot(const fs::path& page, const fs::path& dir) {
  const std::string flags = "--headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir='" +
                            (dir / "chromium-profile").string() + "'";
  const fs::path shot = dir / "shot.png";
  const std::string cmd = "timeout 120 chromium " + flags + " --window-size=1200,1600 --screenshot='" + shot.string() +
                          "' 'file://" + fs::absolute(page).string() + "' >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) {
    ADD_FAILURE() << cmd;
    return {};
  }
  return shot;
}

// A screenshot of a report is not blank.
inline void expect_not_blank(const fs::path& shot) {
  auto img = qmap::read_image(shot.string());
  ASSERT_TRUE(img.ok()) << img.status().message();
  // Not blank: a page of text, tables and charts has many pixels that are not the white
  // background and more than a handful of distinct colours (a blank or error page has
  // almost none; 1 % and 16 are far below what the report draws, far above a blank page).
  const auto* px = img->pixels.data<uint8_t>().data();
  const int64_t n = img->pixels.numel() / 3;
  int64_t dark = 0;
  std::set<uint32_t> colours;
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t r = px[3 * i], g = px[3 * i + 1], b = px[3 * i + 2];
    if (r < 200 || g < 200 || b < 200) ++dark;
    if (colours.size() < 1000) colours.insert(static_cast<uint32_t>(r) << 16 | g << 8 | b);
  }
  EXPECT_GT(dark, n / 100) << "screenshot looks blank";
  EXPECT_GT(colours.size(), 16u);
}

inline size_t count(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t pos = text.find(part); pos != std::string::npos; pos = text.find(part, pos + 1)) ++n;
  return n;
}

}  // namespace qmap::e2e
