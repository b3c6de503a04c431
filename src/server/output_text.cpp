#include "server/output_text.h"

#include <algorithm>

namespace dsinfer::server {

OutputText::OutputText(const Tokenizer& tokenizer, std::vector<std::string> stop, std::optional<bool> reasoning,
                       std::optional<ToolCallFormat> tools)
    : tokenizer_(tokenizer), detok_(tokenizer), stop_(std::move(stop)) {
  for (const auto& s : stop_) hold_ = std::max(hold_, s.size() - 1);
  if (reasoning) reasoning_parser_ = std::make_unique<ReasoningParser>(*reasoning);
  if (tools) tool_parser_ = std::make_unique<ToolCallParser>(*tools);
}

// Passes finished text through the reasoning split and records it.
OutputText::Delta OutputText::release(std::string text, bool last, bool record) {
  Delta d;
  if (reasoning_parser_) {
    auto r = reasoning_parser_->feed(text);
    d.content = std::move(r.content);
    d.reasoning = std::move(r.reasoning);
    if (last) {
      auto f = reasoning_parser_->finish();
      d.content += f.content;
      d.reasoning += f.reasoning;
    }
  } else {
    d.content = std::move(text);
  }
  if (tool_parser_) {  // calls live in the answer, never in the reasoning
    auto t = tool_parser_->feed(d.content);
    if (last) {
      auto f = tool_parser_->finish();
      t.content += f.content;
      t.calls.insert(t.calls.end(), f.calls.begin(), f.calls.end());
    }
    d.content = std::move(t.content);
    d.calls = std::move(t.calls);
  }
  if (record) {
    content_ += d.content;
    reasoning_ += d.reasoning;
  }
  return d;
}

void OutputText::prime(const std::string& text) { release(text, false, false); }

OutputText::Delta OutputText::push(int32_t token) {
  if (stopped_) return {};
  // The model's vocabulary may be padded past the tokenizer's: such ids have no text.
  if (tokenizer_.defined(token)) pending_ += detok_.push(token);
  // The earliest stop string ends the output right before it.
  size_t cut = std::string::npos;
  for (const auto& s : stop_) cut = std::min(cut, pending_.find(s));
  if (cut != std::string::npos) {
    stopped_ = true;
    Delta d = release(pending_.substr(0, cut), true);
    d.stopped = true;
    pending_.clear();
    return d;
  }
  // Keep back what could still be the start of a stop string, at a
  // character boundary.
  size_t keep_from = pending_.size() > hold_ ? pending_.size() - hold_ : 0;
  while (keep_from > 0 && keep_from < pending_.size() && (static_cast<unsigned char>(pending_[keep_from]) & 0xC0) == 0x80)
    --keep_from;
  std::string out = pending_.substr(0, keep_from);
  pending_.erase(0, keep_from);
  return release(std::move(out), false);
}

OutputText::Delta OutputText::finish() {
  if (stopped_) return {};
  pending_ += detok_.finish();
  size_t cut = std::string::npos;
  for (const auto& s : stop_) cut = std::min(cut, pending_.find(s));
  Delta d = release(cut == std::string::npos ? pending_ : pending_.substr(0, cut), true);
  d.stopped = cut != std::string::npos;
  stopped_ = d.stopped;
  pending_.clear();
  return d;
}

}  // namespace dsinfer::server
