#include "runtime/step_progress.h"

#include <unistd.h>

#include <string>

namespace dsinfer {

StepProgress::StepProgress(FILE* out) : out_(out), tty_(::isatty(::fileno(out)) != 0) {}

void StepProgress::on_step(const StepEvent& e) {
  const double tps = e.ms > 0 ? e.tokens * 1000.0 / e.ms : 0.0;
  if (tty_) {
    const int width = 30;
    const int filled = e.total_steps > 0 ? static_cast<int>(width * e.step / e.total_steps) : width;
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(width, '.');
    std::fprintf(out_, "\r\033[K%-7s [%s] %lld/%lld  %.1f ms  %.1f tok/s", generation_phase_name(e.phase), bar.c_str(),
                 static_cast<long long>(e.step), static_cast<long long>(e.total_steps), e.ms, tps);
    line_open_ = true;
    if (e.step == e.total_steps) finish();
  } else {
    // Plain lines: every prefill cycle, and about ten lines per decode run.
    const int64_t every = e.total_steps > 10 ? e.total_steps / 10 : 1;
    if (e.step % every == 0 || e.step == e.total_steps || e.step == 1)
      std::fprintf(out_, "[%s] step %lld/%lld: %.2f ms, %.1f tokens/s\n", generation_phase_name(e.phase), static_cast<long long>(e.step),
                   static_cast<long long>(e.total_steps), e.ms, tps);
  }
  std::fflush(out_);
}

void StepProgress::finish() {
  if (line_open_) std::fputc('\n', out_);
  line_open_ = false;
}

}  // namespace dsinfer
