#pragma once
// UTF-8 helpers shared by the tokenizers, the detokenizers and the config readers. Invalid input
// is never silently passed to the regex engine: encode() validates first.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace dsinfer::utf8 {

// Byte offset of the first invalid UTF-8 sequence (overlong forms, surrogates
// and code points above U+10FFFF are invalid), or npos when the text is valid.
size_t find_invalid(std::string_view text);

// Throws Error("<what>: invalid UTF-8 at byte N") when the text is not valid.
void require_valid(std::string_view text, const std::string& what);

// Length of the valid sequence starting at text[pos], or 0 when the bytes
// there are not a valid sequence (including a sequence cut off by the end).
size_t sequence_length(std::string_view text, size_t pos);

// Number of bytes at the end of `bytes` that form an incomplete but so far
// valid sequence: they may become valid once more bytes arrive (0..3).
size_t incomplete_tail(std::string_view bytes);

// Appends `bytes` to `out`, replacing each maximal invalid subpart with
// U+FFFD, as Python's errors="replace" and Rust's from_utf8_lossy do.
void append_lossy(std::string& out, std::string_view bytes);

// Decodes the code point at text[pos] (text must be valid) and advances pos.
uint32_t next_code_point(std::string_view text, size_t& pos);

// Appends the UTF-8 encoding of a code point (<= U+10FFFF, no surrogates).
void append_code_point(std::string& out, uint32_t cp);

}  // namespace dsinfer::utf8
