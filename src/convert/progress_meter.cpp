#include "convert/progress_meter.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace dsinfer::convert {
namespace {

std::string human_bytes(double b) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  int u = 0;
  while (b >= 1000.0 && u < 4) b /= 1000.0, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", b, units[u]);
  return buf;
}

std::string human_seconds(double s) {
  if (!std::isfinite(s)) return "--";
  const long t = std::lround(s);
  char buf[32];
  if (t >= 3600) std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t / 60) % 60);
  else if (t >= 60) std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  else std::snprintf(buf, sizeof buf, "%lds", t);
  return buf;
}

}  // namespace

ProgressMeter::ProgressMeter(size_t total_bytes, ProgressStyle style)
    : total_(total_bytes), style_(style), start_(std::chrono::steady_clock::now()), last_draw_(start_) {
  if (style_ == ProgressStyle::Auto) style_ = ::isatty(STDERR_FILENO) ? ProgressStyle::Bar : ProgressStyle::Lines;
}

double ProgressMeter::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string ProgressMeter::status_text() const {
  const double secs = std::max(seconds(), 1e-6);
  const double rate = static_cast<double>(done_) / secs;
  const double eta = rate > 0 ? static_cast<double>(total_ - std::min(done_, total_)) / rate : INFINITY;
  const double pct = total_ ? 100.0 * static_cast<double>(done_) / static_cast<double>(total_) : 100.0;
  char buf[160];
  std::snprintf(buf, sizeof buf, "%5.1f%%  %s / %s  %s/s  ETA %s", pct, human_bytes(static_cast<double>(done_)).c_str(),
                human_bytes(static_cast<double>(total_)).c_str(), human_bytes(rate).c_str(), human_seconds(eta).c_str());
  return buf;
}

void ProgressMeter::draw_bar_locked() {
  constexpr int kWidth = 30;
  const int filled = total_ ? static_cast<int>(kWidth * std::min(done_, total_) / total_) : kWidth;
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(kWidth, ' ');
  std::fprintf(stderr, "\r\033[Kconvert [%s] %s", bar.c_str(), status_text().c_str());
  std::fflush(stderr);
  bar_visible_ = true;
  last_draw_ = std::chrono::steady_clock::now();
}

void ProgressMeter::advance(size_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  done_ += bytes;
  if (style_ != ProgressStyle::Bar) return;
  if (std::chrono::steady_clock::now() - last_draw_ >= std::chrono::milliseconds(100) || done_ >= total_)
    draw_bar_locked();
}

void ProgressMeter::log(const std::string& line) {
  std::lock_guard<std::mutex> lock(mu_);
  if (style_ == ProgressStyle::Quiet) return;
  if (finished_) {
    std::fprintf(stderr, "convert: %s\n", line.c_str());
  } else if (style_ == ProgressStyle::Bar) {
    std::fprintf(stderr, "\r\033[K%s\n", line.c_str());
    draw_bar_locked();
  } else {
    std::fprintf(stderr, "convert: %s [%s]\n", line.c_str(), status_text().c_str());
  }
  std::fflush(stderr);
}

double ProgressMeter::finish() {
  std::lock_guard<std::mutex> lock(mu_);
  finished_ = true;
  const double secs = std::max(seconds(), 1e-6);
  const double mbps = static_cast<double>(done_) / 1e6 / secs;
  if (style_ == ProgressStyle::Bar && bar_visible_) std::fprintf(stderr, "\r\033[K");
  if (style_ != ProgressStyle::Quiet)
    std::fprintf(stderr, "convert: tensors done: %s read in %.2f s (%.1f MB/s)\n", human_bytes(static_cast<double>(done_)).c_str(),
                 secs, mbps);
  return mbps;
}

}  // namespace dsinfer::convert
