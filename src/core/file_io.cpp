#include "core/file_io.h"

#include <cerrno>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <algorithm>
#include <new>
#include <filesystem>
#include <fstream>
#include <fcntl.h>
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

Status write_file_atomic(const std::string& path, std::string_view data) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
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
  return ok_status();
}

}  // namespace qmap
