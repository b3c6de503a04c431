#include "tokenizer/unicode_regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

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

std::string with_unicode_whitespace(const std::string& pattern) {
  std::string out;
  out.reserve(pattern.size() + 32);
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\' && i + 1 < pattern.size()) {
      const char c = pattern[i + 1];
      if (c == 's') {
        out += "\\p{White_Space}";
      } else if (c == 'S') {
        out += "\\P{White_Space}";
      } else {
        out.append(pattern, i, 2);  // any other escape, "\\\\" included, stays as is
      }
      ++i;
    } else {
      out += pattern[i];
    }
  }
  return out;
}

}  // namespace dsinfer
