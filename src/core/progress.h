// ProgressBar: "<label> [#####     ] 42/100 3.1 s" on stderr for long loops (calibration).
// On a terminal the line is redrawn in place with '\r' (at most every 100 ms, and on the
// last step); when the stream is not a terminal (logs, CI) nothing is printed until
// finish(), which writes the final line once, so log files do not fill with redraws.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <mutex>
#include <string>

namespace qmap {

// The bar text without label: "[#####     ] 42/100 3.1 s" (width '#'/' ' cells, seconds
// with one decimal). done is clamped to total.
std::string format_progress(size_t done, size_t total, double seconds, int width = 30);

class ProgressBar {
 public:
  // enabled = false prints nothing at all. `out` defaults to stderr; whether it is a
  // terminal is asked once here (isatty).
  ProgressBar(std::string label, size_t total, bool enabled = true, FILE* out = stderr);
  // For tests: states explicitly whether `out` is treated as a terminal.
  ProgressBar(std::string label, size_t total, bool enabled, FILE* out, bool is_tty);
  ~ProgressBar();  // calls finish()
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Thread-safe: records n more finished steps and redraws when due.
  void advance(size_t n = 1);
  // Writes the final line (with a newline) once; later calls do nothing.
  void finish();

 private:
  void draw_locked(bool final_line);

  std::string label_;
  size_t total_;
  bool enabled_;
  FILE* out_;
  bool tty_;
  std::mutex mu_;
  size_t done_ = 0;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace qmap
