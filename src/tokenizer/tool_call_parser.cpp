#include "tokenizer/tool_call_parser.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "io/error.h"
#include "io/utf8.h"

namespace dsinfer {
namespace {

struct Markers {
  std::string_view section_begin, section_end, call_begin, call_end;
  std::string_view inner;  // Kimi: before the arguments; DeepSeek: after the type
};

constexpr Markers kKimi{"<|tool_calls_section_begin|>", "<|tool_calls_section_end|>", "<|tool_call_begin|>",
                        "<|tool_call_end|>", "<|tool_call_argument_begin|>"};
constexpr Markers kDeepSeek{"<｜tool▁calls▁begin｜>", "<｜tool▁calls▁end｜>", "<｜tool▁call▁begin｜>",
                            "<｜tool▁call▁end｜>", "<｜tool▁sep｜>"};

const Markers& markers(ToolCallFormat format) { return format == ToolCallFormat::KimiK2 ? kKimi : kDeepSeek; }

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Bytes at the end of `text` to keep for the next piece: the longest tail
// that may still grow into `marker`, or an unfinished UTF-8 character.
size_t holdback(std::string_view text, std::string_view marker) {
  const size_t keep = utf8::incomplete_tail(text);
  for (size_t n = std::min(text.size(), marker.size() - 1); n > keep; --n)
    if (text.ends_with(marker.substr(0, n))) return n;
  return keep;
}

// A name or id is one word: no whitespace or control bytes, valid UTF-8
// (the server has to JSON-encode it).
bool is_word(std::string_view s) {
  if (s.empty() || utf8::find_invalid(s) != std::string_view::npos) return false;
  return std::none_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7F; });
}

bool is_json_object(std::string_view text) {
  try {
    const auto value = nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    return value.is_object();  // a discarded (unparsable) value is not an object
  } catch (const nlohmann::json::exception&) {
    return false;  // belt and braces: malformed output must never throw
  }
}

}  // namespace

std::string forced_call_prefix(ToolCallFormat format, const std::string& name) {
  const Markers& m = markers(format);
  std::string s = std::string(m.section_begin) + std::string(m.call_begin);
  if (format == ToolCallFormat::KimiK2) {
    s += "functions.";
    if (!name.empty()) s += name + ":0" + std::string(m.inner);
  } else {
    s += "function" + std::string(m.inner);
    if (!name.empty()) s += name + "\n```json\n";
  }
  return s;
}

ToolCallParser::ToolCallParser(ToolCallFormat format) : format_(format) {}

ToolCallParser::Delta ToolCallParser::feed(std::string_view piece) {
  if (finished_) throw Error("ToolCallParser: feed() called after finish()");
  buf_.append(piece);
  Delta out;
  process(out, false);
  return out;
}

ToolCallParser::Delta ToolCallParser::finish() {
  Delta out;
  if (finished_) return out;
  finished_ = true;
  process(out, true);
  return out;
}

bool ToolCallParser::parse_call(std::string_view body, ToolCall& call) const {
  const Markers& m = markers(format_);
  const size_t inner = body.find(m.inner);
  if (inner == std::string_view::npos) return false;
  std::string_view after = body.substr(inner + m.inner.size());
  std::string_view args;
  if (format_ == ToolCallFormat::KimiK2) {
    // functions.NAME:IDX<|tool_call_argument_begin|>ARGS
    constexpr std::string_view kPrefix = "functions.";
    const std::string_view id = trim(body.substr(0, inner));
    const size_t colon = id.rfind(':');
    if (!is_word(id) || !id.starts_with(kPrefix) || colon == std::string_view::npos || colon <= kPrefix.size())
      return false;
    const std::string_view idx = id.substr(colon + 1);
    if (idx.empty() || !std::all_of(idx.begin(), idx.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
    call.id = id;
    call.name = id.substr(kPrefix.size(), colon - kPrefix.size());
    args = after;
  } else {
    // function<｜tool▁sep｜>NAME\n```json\nARGS\n```
    constexpr std::string_view kOpenFence = "```json", kCloseFence = "```";
    if (trim(body.substr(0, inner)) != "function") return false;
    const size_t newline = after.find('\n');
    if (newline == std::string_view::npos) return false;
    const std::string_view name = trim(after.substr(0, newline));
    if (!is_word(name)) return false;
    std::string_view fenced = trim(after.substr(newline + 1));
    if (!fenced.starts_with(kOpenFence)) return false;
    fenced.remove_prefix(kOpenFence.size());
    if (!fenced.ends_with(kCloseFence)) return false;
    fenced.remove_suffix(kCloseFence.size());
    call.id = "call_" + std::to_string(calls_.size());
    call.name = name;
    args = fenced;
  }
  args = trim(args);
  if (!is_json_object(args)) return false;
  call.index = static_cast<int>(calls_.size());
  call.arguments = args;
  return true;
}

void ToolCallParser::process(Delta& out, bool at_end) {
  const Markers& m = markers(format_);
  const std::string_view buf = buf_;
  // buf_[0, done) has been given back as content or consumed by good calls.
  size_t done = 0;
  bool more = true;
  while (more) {
    switch (state_) {
      case State::Content: {
        // Here pos_ == done: content never waits except for a held-back tail.
        const size_t begin = buf.find(m.section_begin, pos_);
        if (begin != std::string_view::npos) {
          out.content.append(buf.substr(pos_, begin - pos_));
          done = begin;  // the section's raw text starts at its marker
          pos_ = begin + m.section_begin.size();
          state_ = State::Section;
          break;
        }
        const std::string_view rest = buf.substr(pos_);
        const size_t keep = at_end ? 0 : holdback(rest, m.section_begin);
        out.content.append(rest.substr(0, rest.size() - keep));
        pos_ = done = buf.size() - keep;
        more = false;
        break;
      }
      case State::Section: {
        while (pos_ < buf.size() && is_space(buf[pos_])) ++pos_;
        const std::string_view rest = buf.substr(pos_);
        if (rest.starts_with(m.call_begin)) {
          pos_ += m.call_begin.size();
          body_start_ = scan_from_ = pos_;
          state_ = State::Call;
        } else if (rest.starts_with(m.section_end)) {
          pos_ += m.section_end.size();
          done = pos_;
          state_ = State::Content;
        } else if (!at_end && (m.call_begin.starts_with(rest) || m.section_end.starts_with(rest))) {
          more = false;  // wait for the marker to complete
        } else {
          pos_ = done;  // unknown text where a marker must be, or the output ended
          state_ = State::Failed;
        }
        break;
      }
      case State::Call: {
        const size_t end = buf.find(m.call_end, scan_from_);
        if (end == std::string_view::npos) {
          if (at_end) {
            pos_ = done;
            state_ = State::Failed;
          } else {
            // Resume where a marker could still start: linear overall.
            const size_t overlap = m.call_end.size() - 1;
            scan_from_ = std::max(body_start_, buf.size() > overlap ? buf.size() - overlap : 0);
            more = false;
          }
          break;
        }
        ToolCall call;
        if (!parse_call(buf.substr(body_start_, end - body_start_), call)) {
          pos_ = done;
          state_ = State::Failed;
          break;
        }
        out.calls.push_back({call.index, call.id, call.name, call.arguments});
        calls_.push_back(std::move(call));
        pos_ = done = end + m.call_end.size();
        state_ = State::Section;
        break;
      }
      case State::Failed: {
        // Everything from here on is content, raw.
        const std::string_view rest = buf.substr(pos_);
        const size_t keep = at_end ? 0 : utf8::incomplete_tail(rest);
        out.content.append(rest.substr(0, rest.size() - keep));
        pos_ = done = buf.size() - keep;
        more = false;
        break;
      }
    }
  }
  // Drop what is settled. What stays is either a short held-back tail or the
  // current unfinished section, which is never moved again until it settles.
  buf_.erase(0, done);
  pos_ -= done;
  if (state_ == State::Call) {
    body_start_ -= done;
    scan_from_ -= done;
  }
}

}  // namespace dsinfer
