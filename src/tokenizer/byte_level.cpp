#include "tokenizer/byte_level.h"

#include <array>
#include <cstdint>

#include "io/utf8.h"

namespace dsinfer::byte_level {
namespace {

// Printable Latin-1 bytes ('!'..'~', '¡'..'¬', '®'..'ÿ') stand for
// themselves; the other 68 bytes take code points 256, 257, ... in byte order.
struct Alphabet {
  std::array<std::string, 256> utf8;
  std::array<int16_t, 512> byte_of_cp;  // code point -> byte, -1 if none
  Alphabet() {
    byte_of_cp.fill(-1);
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      const uint32_t cp = printable ? b : next++;
      utf8::append_code_point(utf8[b], cp);
      byte_of_cp[cp] = static_cast<int16_t>(b);
    }
  }
};

const Alphabet& alphabet() {
  static const Alphabet a;
  return a;
}

}  // namespace

const std::string& char_for_byte(unsigned char b) { return alphabet().utf8[b]; }

bool to_bytes(std::string_view token, std::string& out) {
  const Alphabet& a = alphabet();
  if (utf8::find_invalid(token) != std::string_view::npos) return false;
  size_t pos = 0;
  while (pos < token.size()) {
    const uint32_t cp = utf8::next_code_point(token, pos);
    if (cp >= a.byte_of_cp.size() || a.byte_of_cp[cp] < 0) return false;
    out.push_back(static_cast<char>(a.byte_of_cp[cp]));
  }
  return true;
}

}  // namespace dsinfer::byte_level
