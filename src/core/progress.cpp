// ProgressBar implementation (see progress.h for when lines are drawn).
#include "core/progress.h"

#include <algorithm>
#include <unistd.h>

#include <fmt/format.h>

namespace qmap {

namespace {
// Redraw period on a terminal: fast enough to look live, slow enough that drawing costs
// nothing next to a sample's float inference.
constexpr auto kRedrawPeriod = std::chrono::milliseconds(100);
}  // namespace

std::string format_progress(size_t done, size_t total, double seconds, int width) {
  done = std::min(done, total);
  const int filled =
      total == 0 ? width : static_cast<int>(static_cast<double>(done) * width / static_cast<double>(total));
  std::string bar(static_cast<size_t>(filled), '#');
  bar.append(static_cast<size_t>(width - filled), ' ');
  return fmt::format("[{}] {}/{} {:.1f} s", bar, done, total, seconds);
}

ProgressBar::ProgressBar(std::string label, size_t total, bool enabled, FILE* out)
    : ProgressBar(std::move(label), total, enabled, out, out != nullptr && isatty(fileno(out)) != 0) {}

ProgressBar::ProgressBar(std::string label, size_t total, bool enabled, FILE* out, bool is_tty)
    : label_(std::move(label)),
      total_(total),
      enabled_(enabled && out != nullptr),
      out_(out),
      tty_(is_tty),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {
  std::lock_guard<std::mutex> lock(mu_);
  if (enabled_ && tty_) draw_locked(false);
}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::draw_locked(bool final_line) {
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const std::string text = format_progress(done_, total_, seconds);
  // On a terminal '\r' returns to the line start so the next draw overwrites this one.
  std::fprintf(out_, "%s%s%s%s", tty_ ? "\r" : "", label_.empty() ? "" : (label_ + " ").c_str(), text.c_str(),
               final_line ? "\n" : "");
  std::fflush(out_);
}

void ProgressBar::advance(size_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  done_ += n;
  if (!enabled_ || !tty_ || finished_) return;
  const auto now = std::chrono::steady_clock::now();
  if (done_ >= total_ || now - last_draw_ >= kRedrawPeriod) {
    last_draw_ = now;
    draw_locked(false);
  }
}

void ProgressBar::finish() {
  std::lock_guard<std::mutex> lock(mu_);
  if (finished_) return;
  finished_ = true;
  if (enabled_) draw_locked(true);
}

}  // namespace qmap
