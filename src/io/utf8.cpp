#include "io/utf8.h"

#include "io/error.h"

namespace dsinfer::utf8 {
namespace {

// Allowed range of the second byte given the lead byte (Unicode Table 3-7);
// later continuation bytes are always 0x80..0xBF. Returns the sequence length,
// or 0 for a byte that cannot start a sequence.
size_t lead_info(unsigned char lead, unsigned char& lo, unsigned char& hi) {
  lo = 0x80;
  hi = 0xBF;
  if (lead < 0x80) return 1;
  if (lead < 0xC2) return 0;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) {
    if (lead == 0xE0) lo = 0xA0;
    if (lead == 0xED) hi = 0x9F;  // excludes UTF-16 surrogates
    return 3;
  }
  if (lead < 0xF5) {
    if (lead == 0xF0) lo = 0x90;
    if (lead == 0xF4) hi = 0x8F;  // caps at U+10FFFF
    return 4;
  }
  return 0;
}

// How many bytes from pos match a valid sequence prefix (the "maximal
// subpart"), and the full length that prefix needs.
size_t valid_prefix(std::string_view text, size_t pos, size_t& needed) {
  unsigned char lo, hi;
  needed = lead_info(static_cast<unsigned char>(text[pos]), lo, hi);
  if (needed == 0) return 0;
  size_t n = 1;
  while (n < needed && pos + n < text.size()) {
    const auto b = static_cast<unsigned char>(text[pos + n]);
    if (b < lo || b > hi) break;
    lo = 0x80;
    hi = 0xBF;
    ++n;
  }
  return n;
}

}  // namespace

size_t sequence_length(std::string_view text, size_t pos) {
  const auto b = static_cast<unsigned char>(text[pos]);
  if (b < 0x80) return 1;
  size_t needed;
  const size_t n = valid_prefix(text, pos, needed);
  return n == needed ? n : 0;
}

size_t find_invalid(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    // ASCII fast path: eight bytes at a time.
    while (pos + 8 <= text.size()) {
      uint64_t word;
      __builtin_memcpy(&word, text.data() + pos, 8);
      if (word & 0x8080808080808080ULL) break;
      pos += 8;
    }
    if (pos >= text.size()) break;
    const size_t n = sequence_length(text, pos);
    if (n == 0) return pos;
    pos += n;
  }
  return std::string_view::npos;
}

void require_valid(std::string_view text, const std::string& what) {
  const size_t bad = find_invalid(text);
  if (bad != std::string_view::npos)
    throw Error(what + ": invalid UTF-8 at byte " + std::to_string(bad) + " (text must be valid UTF-8)");
}

size_t incomplete_tail(std::string_view bytes) {
  // A tail can be at most 3 bytes: look for the last lead byte among them.
  const size_t first = bytes.size() > 3 ? bytes.size() - 3 : 0;
  for (size_t pos = bytes.size(); pos-- > first;) {
    const auto b = static_cast<unsigned char>(bytes[pos]);
    if (b >= 0x80 && b < 0xC0) continue;  // continuation byte
    size_t needed;
    const size_t n = valid_prefix(bytes, pos, needed);
    return (needed > 1 && n == bytes.size() - pos && n < needed) ? n : 0;
  }
  return 0;
}

void append_lossy(std::string& out, std::string_view bytes) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  size_t pos = 0;
  while (pos < bytes.size()) {
    size_t needed;
    const size_t n = valid_prefix(bytes, pos, needed);
    if (n > 0 && n == needed) {
      out.append(bytes.substr(pos, n));
      pos += n;
    } else {
      out.append(kReplacement);
      pos += n > 0 ? n : 1;
    }
  }
}

uint32_t next_code_point(std::string_view text, size_t& pos) {
  const auto b0 = static_cast<unsigned char>(text[pos]);
  if (b0 < 0x80) {
    ++pos;
    return b0;
  }
  const size_t n = b0 < 0xE0 ? 2 : b0 < 0xF0 ? 3 : 4;
  uint32_t cp = b0 & (0x7F >> n);
  for (size_t i = 1; i < n; ++i) cp = (cp << 6) | (static_cast<unsigned char>(text[pos + i]) & 0x3F);
  pos += n;
  return cp;
}

void append_code_point(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace dsinfer::utf8
