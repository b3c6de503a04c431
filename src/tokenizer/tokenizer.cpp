#include "tokenizer/tokenizer.h"

#include <filesystem>

#include "io/error.h"
#include "tokenizer/byte_level_bpe.h"
#include "tokenizer/tiktoken_bpe.h"
#include "tokenizer/tokenizer_config.h"
#include "io/utf8.h"

namespace dsinfer {

std::string_view Tokenizer::token_bytes(int32_t id) const {
  if (!store_.defined(id)) throw Error("token id " + std::to_string(id) + " is not in the vocabulary of " + source_);
  return store_.bytes(id);
}

std::string Tokenizer::decode(std::span<const int32_t> ids) const {
  std::string bytes;
  for (const int32_t id : ids) bytes += token_bytes(id);
  std::string out;
  out.reserve(bytes.size());
  utf8::append_lossy(out, bytes);
  return out;
}

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& model_dir) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(model_dir)) throw Error(model_dir + ": not a directory (expected a model directory)");
  const fs::path dir(model_dir);
  const TokenizerConfig config = read_tokenizer_config(model_dir);
  const std::string config_path = (dir / "tokenizer_config.json").string();

  std::unique_ptr<Tokenizer> tok;
  if (fs::exists(dir / "tokenizer.json")) {
    tok = std::make_unique<ByteLevelBpeTokenizer>((dir / "tokenizer.json").string(), model_dir);
  } else if (fs::exists(dir / "tiktoken.model")) {
    // The special tokens live only in the config, so it is required here.
    if (!config.present) throw Error(config_path + ": missing (Kimi tiktoken.model needs it for special tokens)");
    if (config.added_tokens.empty()) throw Error(config_path + ": no 'added_tokens_decoder' (needed with tiktoken.model)");
    tok = std::make_unique<TiktokenBpeTokenizer>((dir / "tiktoken.model").string(), config.added_tokens, model_dir);
  } else {
    throw Error(model_dir + ": no tokenizer found (expected tokenizer.json for DeepSeek or tiktoken.model for Kimi)");
  }

  const bool deepseek = tok->family() == TokenizerFamily::DeepSeek;
  if (config.chat_template) {
    const auto format = detect_chat_format(*config.chat_template);
    // A template of the other family is as unknown as an unrecognized one.
    if (format && (*format == ChatFormat::KimiK2) != deepseek) tok->chat_format_ = format;
  } else {
    tok->chat_format_ = deepseek ? ChatFormat::DeepSeekV3 : ChatFormat::KimiK2;
  }
  const auto resolve = [&](const std::optional<std::string>& name, const char* fallback) -> std::optional<int32_t> {
    return tok->special_token_id(name ? *name : std::string(fallback));
  };
  tok->bos_id_ = resolve(config.bos_token, deepseek ? "<｜begin▁of▁sentence｜>" : "[BOS]");
  tok->eos_id_ = resolve(config.eos_token, deepseek ? "<｜end▁of▁sentence｜>" : "[EOS]");
  return tok;
}

std::string render_chat(const Tokenizer& tokenizer, const std::vector<ChatMessage>& messages,
                        bool add_generation_prompt) {
  const auto format = tokenizer.chat_format();
  if (!format)
    throw Error(tokenizer.source() +
                "/tokenizer_config.json: chat_template is not a supported one (DeepSeek-V3, DeepSeek-R1 or Kimi-K2)");
  return render_chat(*format, messages, add_generation_prompt);
}

std::vector<int32_t> encode_chat(const Tokenizer& tokenizer, const std::vector<ChatMessage>& messages,
                                 bool add_generation_prompt) {
  return tokenizer.encode(render_chat(tokenizer, messages, add_generation_prompt));
}

}  // namespace dsinfer
