#pragma once
// Conversion progress on stderr: a redrawn bar with bytes/s and ETA on a
// terminal, plain log lines otherwise (CI logs, redirected output).
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <mutex>
#include <string>

#include "convert/convert_options.h"

namespace dsinfer::convert {

class ProgressMeter {
 public:
  ProgressMeter(size_t total_bytes, ProgressStyle style);
  // Counts input bytes done; thread-safe. Redraws the bar at most 10x/s.
  void advance(size_t bytes);
  // A message line (the bar is cleared and redrawn below it).
  void log(const std::string& line);
  // Ends the bar with a totals line; returns the average MB/s. Later log()
  // calls print plain lines.
  double finish();
  double seconds() const;
  size_t done_bytes() const { return done_; }

 private:
  std::string status_text() const;
  void draw_bar_locked();

  size_t total_;
  size_t done_ = 0;
  ProgressStyle style_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  bool bar_visible_ = false;
  bool finished_ = false;
  std::mutex mu_;
};

}  // namespace dsinfer::convert
