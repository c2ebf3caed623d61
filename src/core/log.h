// Logger with hb_mapper-style lines: "2026-11-25 18:40:00,123 INFO message".
// No global state: the CLI builds one Logger and passes it to what needs it.
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/status.h"

namespace qmap {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

const char* log_level_name(LogLevel level);

class Logger {
 public:
  // console: where lines at or above console_level go (stdout or stderr); may be null.
  explicit Logger(FILE* console = stdout, LogLevel console_level = LogLevel::kInfo);
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  // Adds a log file that receives every line at kDebug and above. Truncates the file.
  Status add_file(const std::string& path);

  void log(LogLevel level, const std::string& message);
  // Writes text without a timestamp (tables), to the console and the files.
  void raw(const std::string& text);

  template <typename... Args>
  void info(fmt::format_string<Args...> f, Args&&... args) {
    log(LogLevel::kInfo, fmt::format(f, std::forward<Args>(args)...));
  }
  template <typename... Args>
  void warn(fmt::format_string<Args...> f, Args&&... args) {
    log(LogLevel::kWarning, fmt::format(f, std::forward<Args>(args)...));
  }
  template <typename... Args>
  void err(fmt::format_string<Args...> f, Args&&... args) {
    log(LogLevel::kError, fmt::format(f, std::forward<Args>(args)...));
  }
  template <typename... Args>
  void debug(fmt::format_string<Args...> f, Args&&... args) {
    log(LogLevel::kDebug, fmt::format(f, std::forward<Args>(args)...));
  }

 private:
  FILE* console_;
  LogLevel console_level_;
  std::vector<FILE*> files_;
};

// "2026-11-25 18:40:00,123" in local time.
std::string log_timestamp();

}  // namespace qmap
