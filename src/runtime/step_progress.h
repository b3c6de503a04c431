#pragma once
// Live progress of an offline run on stderr: a redrawn line (phase, step,
// tokens/s) on a terminal, plain log lines when stderr is not a TTY.
#include <cstdio>

#include "runtime/offline_runner.h"

namespace dsinfer {

class StepProgress {
 public:
  explicit StepProgress(FILE* out = stderr);
  void on_step(const StepEvent& e);
  void finish();  // ends a redrawn line

 private:
  FILE* out_;
  bool tty_;
  bool line_open_ = false;
};

}  // namespace dsinfer
