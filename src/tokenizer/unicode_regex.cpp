#include "tokenizer/unicode_regex.h"

#include <algorithm>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <cstdint>
#include <cstdio>

#include "io/error.h"

namespace dsinfer {
namespace {

std::string pcre2_message(int code) {
  PCRE2_UCHAR buf[256];
  pcre2_get_error_message(code, buf, sizeof(buf));
  return reinterpret_cast<const char*>(buf);
}

}  // namespace

struct RegexScratch::Impl {
  // One ovector pair is enough: only the whole match is used (PCRE2 returns
  // 0 instead of the group count when groups do not fit, still filling pair 0).
  pcre2_match_data* match_data = pcre2_match_data_create(1, nullptr);
  pcre2_match_context* context = pcre2_match_context_create(nullptr);
  pcre2_jit_stack* jit_stack = pcre2_jit_stack_create(32 * 1024, 64 * 1024 * 1024, nullptr);
  Impl() { pcre2_jit_stack_assign(context, nullptr, jit_stack); }
  ~Impl() {
    pcre2_match_data_free(match_data);
    pcre2_match_context_free(context);
    pcre2_jit_stack_free(jit_stack);
  }
};

RegexScratch::RegexScratch() : impl_(std::make_unique<Impl>()) {}
RegexScratch::~RegexScratch() = default;

struct UnicodeRegex::Impl {
  pcre2_code* code = nullptr;
  bool jit = false;
  std::string origin;
  ~Impl() { pcre2_code_free(code); }
};

UnicodeRegex::UnicodeRegex(const std::string& pattern, const std::string& origin) : impl_(std::make_unique<Impl>()) {
  impl_->origin = origin;
  int err = 0;
  PCRE2_SIZE offset = 0;
  impl_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), PCRE2_UTF | PCRE2_UCP,
                              &err, &offset, nullptr);
  if (!impl_->code)
    throw Error(origin + ": cannot compile regex at offset " + std::to_string(offset) + ": " + pcre2_message(err));
  impl_->jit = pcre2_jit_compile(impl_->code, PCRE2_JIT_COMPLETE) == 0;
}

UnicodeRegex::~UnicodeRegex() = default;
UnicodeRegex::UnicodeRegex(UnicodeRegex&&) noexcept = default;
UnicodeRegex& UnicodeRegex::operator=(UnicodeRegex&&) noexcept = default;

bool UnicodeRegex::find(std::string_view subject, size_t start, RegexScratch& scratch, size_t& begin,
                        size_t& end) const {
  auto& s = *scratch.impl_;
  const auto* data = reinterpret_cast<PCRE2_SPTR>(subject.data());
  // PCRE2's default step limit (10M) is hit by valid inputs: on a run of N
  // spaces, `\s*[\r\n]+` backtracks N steps before `\s+(?!\S)` matches. The
  // limit scales with what is left of the subject: linear patterns always
  // finish, a pathological one is still stopped.
  const uint64_t limit = 10'000'000ULL + 64ULL * (subject.size() - std::min(start, subject.size()));
  pcre2_set_match_limit(s.context, static_cast<uint32_t>(std::min<uint64_t>(limit, 0xffffffffULL)));
  // Subjects were validated as UTF-8 once per encode call, so skip PCRE2's check.
  const int rc = impl_->jit ? pcre2_jit_match(impl_->code, data, subject.size(), start, 0, s.match_data, s.context)
                            : pcre2_match(impl_->code, data, subject.size(), start, PCRE2_NO_UTF_CHECK,
                                          s.match_data, s.context);
  if (rc == PCRE2_ERROR_NOMATCH) return false;
  if (rc < 0) throw Error(impl_->origin + ": regex match failed: " + pcre2_message(rc));
  const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(s.match_data);
  begin = ov[0];
  end = ov[1];
  return true;
}

namespace {

struct UnicodeAddition {
  const char* property;
  int version;  // Unicode version * 10
  uint32_t first, last;
};

constexpr UnicodeAddition kUnicodeAdditions[] = {
#include "tokenizer/unicode_additions.inc"
};

std::string hex_escape(uint32_t cp) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "\\x{%X}", cp);
  return buf;
}

// Class members for property `name` (without brackets), or "" if unknown.
std::string class_members(const std::string& name, int unicode_version) {
  bool known = false;
  std::string extra;
  for (const auto& a : kUnicodeAdditions) {
    if (name != a.property) continue;
    known = true;
    if (a.version > unicode_version) continue;
    extra += hex_escape(a.first);
    if (a.last != a.first) extra += "-" + hex_escape(a.last);
  }
  static constexpr std::string_view kGeneralCategories[] = {"L", "Lu", "Ll", "Lt", "Lm", "Lo", "M", "N", "P", "S"};
  for (const auto gc : kGeneralCategories)
    if (name == gc) known = true;
  if (!known && name != "Han") return "";
  return (name == "Han" ? std::string("\\p{sc=Han}") : "\\p{" + name + "}") + extra;
}

}  // namespace

std::string adapt_pattern(const std::string& pattern, int unicode_version, const std::string& origin) {
  std::string out;
  out.reserve(pattern.size() * 2);
  bool in_class = false;
  size_t i = 0;
  while (i < pattern.size()) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      const char e = pattern[i + 1];
      if (e == 's' || e == 'S') {
        out += e == 's' ? "\\p{White_Space}" : "\\P{White_Space}";
        i += 2;
        continue;
      }
      if ((e == 'p' || e == 'P') && i + 2 < pattern.size() && pattern[i + 2] == '{') {
        const size_t close = pattern.find('}', i + 3);
        if (close == std::string::npos) throw Error(origin + ": unterminated \\p{ in regex");
        const std::string name = pattern.substr(i + 3, close - i - 3);
        const std::string members = class_members(name, unicode_version);
        if (members.empty()) {
          out.append(pattern, i, close + 1 - i);  // some other property: keep as written
        } else if (e == 'p') {
          out += in_class ? members : "[" + members + "]";
        } else {
          if (in_class) throw Error(origin + ": \\P{" + name + "} inside a character class is not supported");
          out += "[^" + members + "]";
        }
        i = close + 1;
        continue;
      }
      out.append(pattern, i, 2);  // any other escape stays as written
      i += 2;
      continue;
    }
    if (!in_class && c == '[') {
      in_class = true;
      out += c;
      ++i;
      if (i < pattern.size() && pattern[i] == '^') out += pattern[i++];
      if (i < pattern.size() && pattern[i] == ']') out += pattern[i++];  // a leading ']' is literal
      continue;
    }
    if (in_class && c == ']') in_class = false;
    out += c;
    ++i;
  }
  return out;
}

}  // namespace dsinfer
