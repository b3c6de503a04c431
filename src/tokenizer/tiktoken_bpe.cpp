#include "tokenizer/tiktoken_bpe.h"
#include "tokenizer/piece_cache.h"

#include <fstream>
#include <sstream>

#include "io/error.h"
#include "io/text_file.h"
#include "io/utf8.h"

namespace dsinfer {
namespace {

// Limits from Moonshot's TikTokenTokenizer.encode (counted in code points).
constexpr size_t kMaxEncodeChars = 400'000;
constexpr size_t kMaxConsecutiveRunChars = 25'000;
// tiktoken.model holds the mergeable ranks; special ids follow them.
constexpr int32_t kNumReservedSpecialTokens = 256;
// Unicode version of the reference's regex engine, Rust's regex-syntax under
// tiktoken: taken as 16.0 (regex-syntax 0.8.5+). The golden fuzz cases need
// >= 15.0 and pass with 15.0..17.0.
constexpr int kUnicodeVersion = 160;

// Python's str.isspace(): bidirectional class WS, B or S, or category Zs.
// Only used to reproduce where the reference cuts long runs.
bool python_isspace(uint32_t cp) {
  if (cp <= 0x20) return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20);
  switch (cp) {
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

bool base64_decode(std::string_view in, std::string& out) {
  out.clear();
  if (in.empty() || in.size() % 4 != 0) return false;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '=') {
      // Padding only at the end, at most two characters.
      if (i + 2 < in.size() || (i + 1 < in.size() && in[i + 1] != '=')) return false;
      break;
    }
    const int v = base64_value(in[i]);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return !out.empty();
}

}  // namespace

// Kimi's pattern. The reference (Rust regex syntax) writes "letters but not
// Han" as class intersections [...&&[^\p{Han}]], which PCRE2 10.42 lacks, so
// each such class is a negative lookahead for Han followed by the class.
const char* TiktokenBpeTokenizer::pattern() {
  return R"([\p{Han}]+)"
         R"(|[^\r\n\p{L}\p{N}]?(?:(?!\p{Han})[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}])*(?:(?!\p{Han})[\p{Ll}\p{Lm}\p{Lo}\p{M}])+(?i:'s|'t|'re|'ve|'m|'ll|'d)?)"
         R"(|[^\r\n\p{L}\p{N}]?(?:(?!\p{Han})[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}])+(?:(?!\p{Han})[\p{Ll}\p{Lm}\p{Lo}\p{M}])*(?i:'s|'t|'re|'ve|'m|'ll|'d)?)"
         R"(|\p{N}{1,3})"
         R"(| ?[^\s\p{L}\p{N}]+[\r\n]*)"
         R"(|\s*[\r\n]+)"
         R"(|\s+(?!\S))"
         R"(|\s+)";
}

struct TiktokenBpeTokenizer::EncodeState {
  std::vector<int32_t>& out;
  RegexScratch scratch;
  BpeWorkspace workspace;
  PieceCache pieces;
};

TiktokenBpeTokenizer::TiktokenBpeTokenizer(const std::string& path,
                                           const std::vector<std::pair<int32_t, std::string>>& added_tokens,
                                           std::string source)
    : Tokenizer(TokenizerFamily::Kimi, std::move(source)), regex_(adapt_pattern(pattern(), kUnicodeVersion, "Kimi pre-tokenizer regex"), "Kimi pre-tokenizer regex") {
  const std::string text = read_text_file(path);
  // A cut-off file ends inside a line: say so instead of blaming a rank or the config.
  if (!text.empty() && text.back() != '\n')
    throw Error(path + ": ends inside a line (the file is truncated: every line is '<base64 token> <rank>\\n')");
  std::istringstream f(text);
  std::vector<std::string> base;  // rank -> bytes
  std::string line, bytes;
  size_t line_no = 0;
  while (std::getline(f, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const auto where = [&] { return path + ":" + std::to_string(line_no) + ": "; };
    const size_t space = line.find(' ');
    if (space == std::string::npos) throw Error(where() + "expected '<base64 token> <rank>'");
    if (!base64_decode(std::string_view(line).substr(0, space), bytes)) throw Error(where() + "invalid base64 token");
    int64_t rank = -1;
    try {
      size_t used = 0;
      rank = std::stoll(line.substr(space + 1), &used);
      if (used != line.size() - space - 1) rank = -1;
    } catch (const std::exception&) {
    }
    if (rank < 0 || rank >= (1 << 30)) throw Error(where() + "invalid rank");
    if (static_cast<size_t>(rank) >= base.size()) base.resize(static_cast<size_t>(rank) + 1);
    if (!base[rank].empty()) throw Error(where() + "rank " + std::to_string(rank) + " appears twice");
    base[rank] = bytes;
  }
  if (base.empty()) throw Error(path + ": no tokens");
  for (size_t r = 0; r < base.size(); ++r)
    if (base[r].empty()) throw Error(path + ": rank " + std::to_string(r) + " is missing (ranks must be 0..N-1)");
  num_base_tokens_ = static_cast<int32_t>(base.size());
  bool has_byte[256] = {};
  for (const auto& b : base)
    if (b.size() == 1) has_byte[static_cast<unsigned char>(b[0])] = true;
  for (int b = 0; b < 256; ++b)
    if (!has_byte[b]) throw Error(path + ": no token for byte " + std::to_string(b) + " (every byte needs a rank)");

  // Special ids follow the ranks; those the config does not name get the
  // reference's placeholder names (decode-only: text never matches them).
  std::vector<std::string> special(kNumReservedSpecialTokens);
  for (int32_t i = 0; i < kNumReservedSpecialTokens; ++i)
    special[i] = "<|reserved_token_" + std::to_string(num_base_tokens_ + i) + "|>";
  for (const auto& [id, content] : added_tokens) {
    if (id >= num_base_tokens_ + kNumReservedSpecialTokens)
      throw Error(path + ": holds " + std::to_string(num_base_tokens_) + " ranks, but tokenizer_config.json's added " +
                  "token '" + content + "' has id " + std::to_string(id) + ": the special ids follow the ranks, so " +
                  "tiktoken.model is short (truncated?) or belongs to another model");
    if (id < num_base_tokens_)
      throw Error(source_ + ": tokenizer_config.json: added token id " + std::to_string(id) + " ('" + content +
                  "') is outside the special range " + std::to_string(num_base_tokens_) + ".." +
                  std::to_string(num_base_tokens_ + kNumReservedSpecialTokens - 1));
    special[id - num_base_tokens_] = content;
    added_.add(content, id);
    store_.add_special(content, id);
  }

  for (const auto& b : base) store_.append(&b);
  for (const auto& s : special) store_.append(&s);
  store_.finish();
  // The blob is final now, so views into it stay valid.
  std::vector<std::string_view> views;
  for (int32_t r = 0; r < num_base_tokens_; ++r) views.push_back(token_bytes(r));
  ranks_.build(views);
  for (int32_t r = 0; r < num_base_tokens_; ++r)
    if (ranks_.find(views[r]) != r) throw Error(path + ": token of rank " + std::to_string(r) + " appears twice");
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    byte_ranks_[b] = ranks_.find(std::string_view(&c, 1));
  }
}

std::vector<int32_t> TiktokenBpeTokenizer::encode(std::string_view text) const {
  utf8::require_valid(text, "encode");
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 1);
  EncodeState st{out, {}, {}, {}};
  added_.split(
      text,
      [&](std::string_view segment) {
        // Chunks of at most 400k code points ...
        size_t pos = 0;
        while (pos < segment.size()) {
          size_t end = pos;
          for (size_t n = 0; n < kMaxEncodeChars && end < segment.size(); ++n) utf8::next_code_point(segment, end);
          const std::string_view chunk = segment.substr(pos, end - pos);
          // ... cut so that no run of whitespace or of non-whitespace
          // exceeds 25k code points (the reference's generator, step by step).
          size_t i = 0, run_len = 0, slice_start = 0;
          size_t first = 0;
          bool run_is_space = python_isspace(utf8::next_code_point(chunk, first));
          while (i < chunk.size()) {
            const size_t at = i;
            const bool is_space = python_isspace(utf8::next_code_point(chunk, i));
            if (is_space != run_is_space) {
              run_len = 1;
              run_is_space = is_space;
            } else if (++run_len > kMaxConsecutiveRunChars) {
              encode_chunk(chunk.substr(slice_start, at - slice_start), st);
              slice_start = at;
              run_len = 1;
            }
          }
          encode_chunk(chunk.substr(slice_start), st);
          pos = end;
        }
      },
      [&](int32_t id) { out.push_back(id); });
  return out;
}

void TiktokenBpeTokenizer::encode_chunk(std::string_view chunk, EncodeState& st) const {
  // tiktoken encodes only what the regex matches (Kimi's pattern covers every character).
  regex_.for_each_match(chunk, st.scratch,
                        [&](size_t begin, size_t end) { encode_piece(chunk.substr(begin, end - begin), st); });
}

void TiktokenBpeTokenizer::encode_piece(std::string_view piece, EncodeState& st) const {
  // A piece that is itself a token is never split (tiktoken's shortcut).
  if (const int32_t rank = ranks_.find(piece); rank >= 0) {
    st.out.push_back(rank);
    return;
  }
  if (st.pieces.append_cached(piece, st.out)) return;
  const size_t first = st.out.size();
  auto& syms = st.workspace.symbols;
  syms.clear();
  for (size_t i = 0; i < piece.size(); ++i)
    syms.push_back({byte_ranks_[static_cast<unsigned char>(piece[i])], static_cast<uint32_t>(i), static_cast<uint32_t>(i + 1),
                    0, 0});
  // The rank of a pair is the rank of its concatenated bytes, if that is a token.
  bpe_merge(
      st.workspace,
      [&](const BpeSymbol& l, const BpeSymbol& r) {
        const int32_t rank = ranks_.find(piece.substr(l.start, r.end - l.start));
        return BpeMerge{rank, rank};
      },
      st.out);
  st.pieces.store(piece, st.out, first);
}

}  // namespace dsinfer
