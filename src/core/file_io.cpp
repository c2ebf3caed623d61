#include "core/file_io.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

namespace qmap {

Result<std::string> read_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return error("file '{}': does not exist", path);
  if (std::filesystem::is_directory(path, ec)) return error("file '{}': is a directory, expected a file", path);
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return error("file '{}': cannot open: {}", path, std::strerror(errno));
  std::string data;
  char buf[1 << 16];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) data.append(buf, n);
  const bool bad = std::ferror(f) != 0;
  std::fclose(f);
  if (bad) return error("file '{}': read error: {}", path, std::strerror(errno));
  return data;
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
