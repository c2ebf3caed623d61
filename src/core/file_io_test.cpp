// core/file_io: remove_stale_temp_files removes only the temporary files write_file_atomic
// left behind for processes that no longer run; write_file_atomic leaves no temporary file
// and replaces an existing file whole. (The SIGINT handler and SIGKILL at random moments are
// tested end to end by tests/e2e/makertbin_kill_test.py.)
#include "core/file_io.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace qmap {
namespace {

namespace fs = std::filesystem;

fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::path(::testing::TempDir()) / ("qmap_file_io_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void touch(const fs::path& p) { std::ofstream(p) << "x"; }

// The pid of a child that has exited and been reaped: no process has it (until reused,
// which the kernel does only after cycling through pid_max).
pid_t dead_pid() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  return child;
}

TEST(FileIo, RemoveStaleTempFilesKeepsLiveProcessesAndOtherFiles) {
  const fs::path d = fresh_dir("stale");
  const std::string dead = std::to_string(dead_pid());
  touch(d / ("m.bin.tmp." + dead));
  touch(d / ("m_quantized_model.onnx.tmp." + dead));
  touch(d / ("m.bin.tmp." + std::to_string(::getpid())));   // this process: writing it now
  touch(d / ("m.bin.tmp." + std::to_string(::getppid())));  // a live process
  touch(d / "m.bin");
  touch(d / "notes.tmp.txt");
  touch(d / ".tmp.1");
  touch(d / ("m.bin.tmp." + dead + "x"));
  const auto removed = remove_stale_temp_files(d.string());
  EXPECT_EQ(removed, (std::vector<std::string>{"m.bin.tmp." + dead, "m_quantized_model.onnx.tmp." + dead}));
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(d)) left.push_back(e.path().filename().string());
  std::sort(left.begin(), left.end());
  std::vector<std::string> want = {".tmp.1", "m.bin", "m.bin.tmp." + std::to_string(::getpid()),
                                   "m.bin.tmp." + std::to_string(::getppid()), "m.bin.tmp." + dead + "x",
                                   "notes.tmp.txt"};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(left, want);
  EXPECT_TRUE(remove_stale_temp_files((d / "missing").string()).empty());
  fs::remove_all(d);
}

TEST(FileIo, WriteFileAtomicReplacesWholeAndLeavesNoTemporary) {
  const fs::path d = fresh_dir("atomic");
  const std::string path = (d / "out.bin").string();
  ASSERT_TRUE(write_file_atomic(path, std::string(100000, 'a')).ok());
  ASSERT_TRUE(write_file_atomic(path, "short").ok());
  EXPECT_EQ(*read_file(path), "short");
  size_t files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(d)) ++files;
  EXPECT_EQ(files, 1u);
  const Status s = write_file_atomic((d / "no_such_dir" / "x.bin").string(), "x");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("no_such_dir/x.bin': cannot create"), std::string::npos) << s.message();
  fs::remove_all(d);
}

}  // namespace
}  // namespace qmap
