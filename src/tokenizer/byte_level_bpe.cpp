#include "tokenizer/byte_level_bpe.h"
#include "tokenizer/piece_cache.h"

#include <algorithm>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>

#include "io/error.h"
#include "io/strict_json.h"
#include "io/text_file.h"
#include "tokenizer/byte_level.h"
#include "io/utf8.h"

namespace dsinfer {
namespace {

using nlohmann::json;

// GPT-2's split, used by ByteLevel when its use_regex option is on.
constexpr const char* kByteLevelRegex = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// Pieces longer than this are rare and not worth caching.
// Unicode version of the reference's regex engine, Oniguruma as bundled by HF
// tokenizers: taken as 15.1 (Oniguruma 6.9.9). The golden fuzz cases need
// >= 15.0 (U+1F77B is a symbol only from 15.0 on) and pass with 15.0..17.0.
constexpr int kUnicodeVersion = 151;

// What a token decodes to: HF's ByteLevel decoder maps each character back to
// its byte, and keeps a token's UTF-8 as is when a character is outside the alphabet.
std::string decoded_bytes(const std::string& token) {
  std::string bytes;
  if (byte_level::to_bytes(token, bytes)) return bytes;
  return token;
}

bool is_empty_normalizer(const json& n) {
  if (n.is_null()) return true;
  if (!n.is_object() || n.value("type", "") != "Sequence" || !n.contains("normalizers")) return false;
  for (const auto& child : n["normalizers"])
    if (!is_empty_normalizer(child)) return false;
  return true;
}

std::string quote_literal(const std::string& s) {
  std::string out;
  for (const char c : s) {
    if (std::string_view("\\^$.|?*+()[]{}-#").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

struct ByteLevelBpeTokenizer::EncodeState {
  std::vector<int32_t>& out;
  RegexScratch scratch;
  BpeWorkspace workspace;
  PieceCache pieces;
};

ByteLevelBpeTokenizer::ByteLevelBpeTokenizer(const std::string& path, std::string source)
    : Tokenizer(TokenizerFamily::DeepSeek, std::move(source)) {
  const json j = parse_json_strict(read_text_file(path), path);
  const auto fail = [&](const std::string& what) { throw Error(path + ": " + what); };
  if (!j.is_object()) fail("expected a JSON object at top level");

  // model: BPE with a byte-level vocab and merges.
  if (!j.contains("model") || !j["model"].is_object()) fail("missing object 'model'");
  const json& model = j["model"];
  if (model.value("type", "BPE") != "BPE") fail("model.type '" + model.value("type", "") + "' is not supported (BPE only)");
  for (const char* key : {"dropout", "continuing_subword_prefix", "end_of_word_suffix"})
    if (model.contains(key) && !model[key].is_null()) fail(std::string("model.") + key + " is not supported");
  if (model.value("byte_fallback", false)) fail("model.byte_fallback is not supported");
  if (!model.contains("vocab") || !model["vocab"].is_object()) fail("missing object 'model.vocab'");
  if (!model.contains("merges") || !model["merges"].is_array()) fail("missing list 'model.merges'");

  std::unordered_map<std::string, int32_t> vocab;
  vocab.reserve(model["vocab"].size());
  std::vector<std::pair<int32_t, std::string>> tokens;  // id -> decoded bytes
  for (const auto& [token, id] : model["vocab"].items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= (1 << 30))
      fail("model.vocab[\"" + token + "\"] is not a valid token id");
    vocab.emplace(token, id.get<int32_t>());
    tokens.emplace_back(id.get<int32_t>(), decoded_bytes(token));
  }
  for (int b = 0; b < 256; ++b) {
    const auto it = vocab.find(byte_level::char_for_byte(static_cast<unsigned char>(b)));
    if (it == vocab.end()) fail("model.vocab lacks the ByteLevel token for byte " + std::to_string(b));
    byte_ids_[b] = it->second;
  }

  const json& merges = model["merges"];
  merges_.reserve(merges.size());
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const json& m = merges[rank];
    std::string left, right;
    if (m.is_string()) {
      const std::string s = m.get<std::string>();
      const size_t space = s.find(' ');
      if (space == std::string::npos) fail("model.merges[" + std::to_string(rank) + "] is not 'left right'");
      left = s.substr(0, space);
      right = s.substr(space + 1);
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      left = m[0].get<std::string>();
      right = m[1].get<std::string>();
    } else {
      fail("model.merges[" + std::to_string(rank) + "] is not a pair of tokens");
    }
    const auto l = vocab.find(left), r = vocab.find(right), merged = vocab.find(left + right);
    if (l == vocab.end() || r == vocab.end() || merged == vocab.end())
      fail("model.merges[" + std::to_string(rank) + "] uses a token missing from model.vocab");
    // A repeated pair keeps its last rank: HF collects the list into a map.
    merges_.set(l->second, r->second, BpeMerge{static_cast<int32_t>(rank), merged->second});
  }

  // Added tokens, matched inside the text before pre-tokenization.
  if (j.contains("added_tokens")) {
    if (!j["added_tokens"].is_array()) fail("'added_tokens' must be a list");
    for (size_t i = 0; i < j["added_tokens"].size(); ++i) {
      const json& t = j["added_tokens"][i];
      const std::string where = "added_tokens[" + std::to_string(i) + "]";
      if (!t.is_object() || !t.contains("id") || !t["id"].is_number_integer() || !t.contains("content") ||
          !t["content"].is_string() || t["id"].get<int64_t>() < 0 || t["id"].get<int64_t>() >= (1 << 30))
        fail(where + " needs an integer 'id' and a string 'content'");
      for (const char* flag : {"lstrip", "rstrip", "single_word"})
        if (t.value(flag, false)) fail(where + "." + flag + " = true is not supported");
      const auto id = t["id"].get<int32_t>();
      const std::string content = t["content"].get<std::string>();
      if (content.empty()) fail(where + " has empty content");
      (t.value("normalized", true) ? normalized_added_ : raw_added_).add(content, id);
      store_.add_special(content, id);
      tokens.emplace_back(id, decoded_bytes(content));
    }
  }

  if (j.contains("normalizer") && !is_empty_normalizer(j["normalizer"]))
    fail("normalizer " + j["normalizer"].dump() + " is not supported (only an empty Sequence)");

  // Pre-tokenizer: Split regexes (Isolated) and one ByteLevel, in order.
  bool byte_level = false;
  const std::function<void(const json&)> add_pre_tokenizer = [&](const json& p) {
    const std::string type = p.value("type", "");
    if (type == "Sequence") {
      for (const auto& child : p.value("pretokenizers", json::array())) add_pre_tokenizer(child);
    } else if (type == "Split") {
      if (p.value("behavior", "") != "Isolated") fail("pre_tokenizer Split behavior '" + p.value("behavior", "") + "' is not supported (Isolated only)");
      if (p.value("invert", false)) fail("pre_tokenizer Split invert = true is not supported");
      const json& pat = p.value("pattern", json::object());
      std::string regex;
      if (pat.contains("Regex") && pat["Regex"].is_string()) {
        regex = adapt_pattern(pat["Regex"].get<std::string>(), kUnicodeVersion, path + ": pre_tokenizer Split pattern");
      } else if (pat.contains("String") && pat["String"].is_string()) {
        regex = quote_literal(pat["String"].get<std::string>());
      } else {
        fail("pre_tokenizer Split needs pattern.Regex or pattern.String");
      }
      splits_.emplace_back(regex, path + ": pre_tokenizer Split pattern");
    } else if (type == "ByteLevel") {
      if (p.value("add_prefix_space", false)) fail("pre_tokenizer ByteLevel add_prefix_space = true is not supported");
      if (p.value("use_regex", true)) splits_.emplace_back(adapt_pattern(kByteLevelRegex, kUnicodeVersion, "ByteLevel regex"), "ByteLevel regex");
      byte_level = true;
    } else {
      fail("pre_tokenizer type '" + type + "' is not supported");
    }
  };
  if (!j.contains("pre_tokenizer") || j["pre_tokenizer"].is_null()) fail("missing 'pre_tokenizer'");
  add_pre_tokenizer(j["pre_tokenizer"]);
  if (!byte_level) fail("pre_tokenizer has no ByteLevel step (only byte-level BPE is supported)");
  if (!j.contains("decoder") || !j["decoder"].is_object() || j["decoder"].value("type", "") != "ByteLevel")
    fail("decoder must be ByteLevel");

  // id -> bytes table; added-token content wins over a vocab entry of the same id.
  int32_t max_id = -1;
  for (const auto& [id, bytes] : tokens) max_id = std::max(max_id, id);
  std::vector<const std::string*> by_id(static_cast<size_t>(max_id) + 1, nullptr);
  for (const auto& [id, bytes] : tokens) by_id[id] = &bytes;
  for (const std::string* bytes : by_id) store_.append(bytes);
  store_.finish();
}

std::vector<int32_t> ByteLevelBpeTokenizer::encode(std::string_view text) const {
  utf8::require_valid(text, "encode");
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 1);
  EncodeState st{out, {}, {}, {}};
  const auto push_token = [&](int32_t id) { out.push_back(id); };
  raw_added_.split(
      text,
      [&](std::string_view segment) {
        normalized_added_.split(
            segment, [&](std::string_view plain) { split_and_encode(plain, 0, st); }, push_token);
      },
      push_token);
  return out;
}

// Applies Split step `level` to the piece (matches and the gaps between them
// both become pieces), then the next steps to each result, then BPE.
void ByteLevelBpeTokenizer::split_and_encode(std::string_view piece, size_t level, EncodeState& st) const {
  if (level == splits_.size()) {
    encode_piece(piece, st);
    return;
  }
  size_t done = 0;
  splits_[level].for_each_match(piece, st.scratch, [&](size_t begin, size_t end) {
    if (begin > done) split_and_encode(piece.substr(done, begin - done), level + 1, st);
    split_and_encode(piece.substr(begin, end - begin), level + 1, st);
    done = end;
  });
  if (done < piece.size()) split_and_encode(piece.substr(done), level + 1, st);
}

void ByteLevelBpeTokenizer::encode_piece(std::string_view piece, EncodeState& st) const {
  if (st.pieces.append_cached(piece, st.out)) return;
  const size_t first = st.out.size();
  if (piece.size() == 1) {
    st.out.push_back(byte_ids_[static_cast<unsigned char>(piece[0])]);
  } else {
    auto& syms = st.workspace.symbols;
    syms.clear();
    for (size_t i = 0; i < piece.size(); ++i)
      syms.push_back({byte_ids_[static_cast<unsigned char>(piece[i])], static_cast<uint32_t>(i),
                      static_cast<uint32_t>(i + 1), 0, 0});
    bpe_merge(
        st.workspace, [&](const BpeSymbol& l, const BpeSymbol& r) { return merges_.find(l.id, r.id); }, st.out);
  }
  st.pieces.store(piece, st.out, first);
}

}  // namespace dsinfer
