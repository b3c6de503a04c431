#pragma once
// GPT-2 "ByteLevel" alphabet used by HF tokenizer.json vocabularies: every
// byte maps to one printable Unicode character, so token strings in the
// vocab are byte sequences spelled in that alphabet.
#include <string>
#include <string_view>

namespace dsinfer::byte_level {

// UTF-8 spelling of the character standing for byte b.
const std::string& char_for_byte(unsigned char b);

// Converts a vocab token spelled in the ByteLevel alphabet back to raw bytes.
// False when it contains a character outside the alphabet.
bool to_bytes(std::string_view token, std::string& out);

}  // namespace dsinfer::byte_level
