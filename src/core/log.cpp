#include "core/log.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>

namespace qmap {

const char* log_level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "DEBUG";
    case LogLevel::kInfo: return "INFO";
    case LogLevel::kWarning: return "WARNING";
    case LogLevel::kError: return "ERROR";
  }
  return "?";
}

std::string log_timestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return fmt::format("{},{:03d}", buf, static_cast<int>(ms));
}

Logger::Logger(FILE* console, LogLevel console_level) : console_(console), console_level_(console_level) {}

Logger::~Logger() {
  for (FILE* f : files_) std::fclose(f);
}

Status Logger::add_file(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return error("log file '{}': cannot open for writing: {}", path, std::strerror(errno));
  files_.push_back(f);
  return ok_status();
}

void Logger::log(LogLevel level, const std::string& message) {
  const std::string line = fmt::format("{} {} {}\n", log_timestamp(), log_level_name(level), message);
  if (console_ != nullptr && level >= console_level_) {
    std::fputs(line.c_str(), console_);
    std::fflush(console_);
  }
  for (FILE* f : files_) {
    std::fputs(line.c_str(), f);
    std::fflush(f);
  }
}

void Logger::raw(const std::string& text) {
  if (console_ != nullptr) {
    std::fputs(text.c_str(), console_);
    std::fflush(console_);
  }
  for (FILE* f : files_) {
    std::fputs(text.c_str(), f);
    std::fflush(f);
  }
}

}  // namespace qmap
