// Helpers shared by the end-to-end suites: run the built `qmap` binary in a fresh folder
// per test and capture its exit code, stdout, stderr and a log file.
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

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

}  // namespace qmap::e2e
