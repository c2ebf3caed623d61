#include "core/file_io.h"

#include <cerrno>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <algorithm>
#include <atomic>
#include <csignal>
#include <new>
#include <filesystem>
#include <fstream>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/huge_pages.h"

namespace qmap {

namespace {

// An open file descriptor, closed on scope exit.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

Result<int> open_for_reading(const std::string& path, Fd& fd, int64_t* regular_size) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return error("file '{}': does not exist", path);
  if (std::filesystem::is_directory(path, ec)) return error("file '{}': is a directory, expected a file", path);
  fd.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd.fd < 0) return error("file '{}': cannot open: {}", path, std::strerror(errno));
  struct stat st {};
  *regular_size = ::fstat(fd.fd, &st) == 0 && S_ISREG(st.st_mode) ? static_cast<int64_t>(st.st_size) : -1;
  return fd.fd;
}

// Reads up to `n` bytes at `dst`; returns the count read (short only at the end of the file).
Result<size_t> read_fully(int fd, std::byte* dst, size_t n, const std::string& path) {
  size_t got = 0;
  while (got < n) {
    const ssize_t r = ::read(fd, dst + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return error("file '{}': read error: {}", path, std::strerror(errno));
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  return got;
}

}  // namespace

Result<std::string> read_file(const std::string& path) {
  Fd fd;
  int64_t size = -1;
  QMAP_RETURN_IF_ERROR(open_for_reading(path, fd, &size).status());
  std::string data;
  if (size >= 0) {  // a regular file: one read of the size fstat gives, then whatever was appended
    data.resize(static_cast<size_t>(size));
    QMAP_ASSIGN_OR_RETURN(size_t got, read_fully(fd.fd, reinterpret_cast<std::byte*>(data.data()), data.size(), path));
    data.resize(got);
    if (got < static_cast<size_t>(size)) return data;
  }
  char buf[1 << 16];
  for (;;) {
    QMAP_ASSIGN_OR_RETURN(size_t got, read_fully(fd.fd, reinterpret_cast<std::byte*>(buf), sizeof buf, path));
    data.append(buf, got);
    if (got < sizeof buf) return data;
  }
}

Result<FileBytes> read_file_bytes(const std::string& path) {
  Fd fd;
  int64_t size = -1;
  QMAP_RETURN_IF_ERROR(open_for_reading(path, fd, &size).status());
  if (size < 0) {  // a pipe or device: no size to allocate for up front
    QMAP_ASSIGN_OR_RETURN(std::string s, read_file(path));
    FileBytes out{alloc_huge_shared(s.size()), s.size()};
    if (!s.empty()) std::memcpy(out.data.get(), s.data(), s.size());
    return out;
  }
  FileBytes out{alloc_huge_shared(static_cast<size_t>(size)), static_cast<size_t>(size)};
  QMAP_ASSIGN_OR_RETURN(size_t got, read_fully(fd.fd, out.data.get(), out.size, path));
  std::byte extra{};
  QMAP_ASSIGN_OR_RETURN(size_t more, read_fully(fd.fd, &extra, 1, path));
  if (got != out.size || more != 0)
    return error("file '{}': changed size while being read ({} bytes when opened)", path, size);
  return out;
}

Result<FileBytes> map_file_bytes(const std::string& path) {
  Fd fd;
  int64_t size = -1;
  QMAP_RETURN_IF_ERROR(open_for_reading(path, fd, &size).status());
  if (size <= 0) return read_file_bytes(path);  // a pipe or device, or empty: nothing to map
  void* at = ::mmap(nullptr, static_cast<size_t>(size), PROT_READ, MAP_PRIVATE, fd.fd, 0);
  if (at == MAP_FAILED) return read_file_bytes(path);  // a file system that cannot map: read it
  const size_t bytes = static_cast<size_t>(size);
  return FileBytes{std::shared_ptr<std::byte[]>(static_cast<std::byte*>(at), [bytes](std::byte* p) { ::munmap(p, bytes); }),
                   bytes};
}

namespace {

// The temporary files being written right now, for the interrupt handler. This is the one
// piece of process-wide mutable state in core/: a signal handler can reach nothing else.
// Fixed slots, no allocation. A slot's state goes free -> claimed (CAS, then the path is
// copied) -> ready (release); the handler unlinks ready slots only (acquire), so it never
// reads a half-copied path. More concurrent writes than slots go unregistered: their temp
// files are then removed by the next run's remove_stale_temp_files.
constexpr size_t kTempSlots = 32;
constexpr size_t kTempPathMax = 4096;
enum : int { kSlotFree = 0, kSlotClaimed = 1, kSlotReady = 2 };
struct TempSlot {
  std::atomic<int> state{kSlotFree};
  char path[kTempPathMax] = {};
};
// constinit: all zeros, in .bss. Left to a dynamic initializer, every process that links the
// runtime wrote the 32 states at start-up, faulting in 32 pages (about 0.5 ms on a VM).
constinit TempSlot g_temp_slots[kTempSlots];
const char* g_interrupt_message = nullptr;

// Registers `tmp` for the lifetime of the object.
class TempRegistration {
 public:
  explicit TempRegistration(const std::string& tmp) {
    if (tmp.size() >= kTempPathMax) return;
    for (size_t i = 0; i < kTempSlots; ++i) {
      int expected = kSlotFree;
      if (!g_temp_slots[i].state.compare_exchange_strong(expected, kSlotClaimed, std::memory_order_acquire)) continue;
      std::memcpy(g_temp_slots[i].path, tmp.c_str(), tmp.size() + 1);
      g_temp_slots[i].state.store(kSlotReady, std::memory_order_release);
      slot_ = &g_temp_slots[i];
      return;
    }
  }
  ~TempRegistration() {
    if (slot_ != nullptr) slot_->state.store(kSlotFree, std::memory_order_release);
  }
  TempRegistration(const TempRegistration&) = delete;
  TempRegistration& operator=(const TempRegistration&) = delete;

 private:
  TempSlot* slot_ = nullptr;
};

void write_all_stderr(const char* s, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(2, s, n);
    if (w <= 0) return;
    s += w;
    n -= static_cast<size_t>(w);
  }
}

extern "C" void qmap_interrupt_handler(int sig) {
  for (auto& slot : g_temp_slots)
    if (slot.state.load(std::memory_order_acquire) == kSlotReady) ::unlink(slot.path);
  if (g_interrupt_message != nullptr) {
    write_all_stderr("ERROR ", 6);
    write_all_stderr(g_interrupt_message, std::strlen(g_interrupt_message));
    write_all_stderr("\n", 1);
  }
  ::_exit(128 + sig);
}

// fsync of the folder holding `path`, so the rename itself survives a power loss.
void sync_parent_dir(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // best effort: the file itself is complete either way
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

Status write_file_atomic(const std::string& path, std::string_view data) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const TempRegistration registered(tmp);  // before the file exists: the handler's unlink may find nothing
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) return error("file '{}': cannot create: {}", path, std::strerror(errno));
  const bool wrote = std::fwrite(data.data(), 1, data.size(), f) == data.size();
  const bool flushed = std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
  std::fclose(f);
  if (!wrote || !flushed) {
    std::remove(tmp.c_str());
    return error("file '{}': write failed: {}", path, std::strerror(errno));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return error("file '{}': cannot rename temporary file into place: {}", path, std::strerror(errno));
  }
  sync_parent_dir(path);
  return ok_status();
}

std::vector<std::string> remove_stale_temp_files(const std::string& dir) {
  std::vector<std::string> removed;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    const size_t at = name.rfind(".tmp.");
    if (at == std::string::npos || at == 0) continue;
    const std::string pid_text = name.substr(at + 5);
    if (pid_text.empty() || pid_text.size() > 9 || pid_text.find_first_not_of("0123456789") != std::string::npos) continue;
    const auto pid = static_cast<pid_t>(std::stol(pid_text));
    if (pid == ::getpid() || !(::kill(pid, 0) != 0 && errno == ESRCH)) continue;  // ours, or alive
    if (e.is_regular_file(ec) && std::filesystem::remove(e.path(), ec)) removed.push_back(name);
  }
  std::sort(removed.begin(), removed.end());
  return removed;
}

void install_interrupt_cleanup(const char* message) {
  g_interrupt_message = message;
  struct sigaction sa {};
  sa.sa_handler = qmap_interrupt_handler;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

}  // namespace qmap
