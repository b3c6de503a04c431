#include "runtime/prompt_encoder.h"

#include <filesystem>

#include "io/error.h"

namespace dsinfer {

bool has_tokenizer_files(const std::string& model_dir) {
  namespace fs = std::filesystem;
  return fs::exists(fs::path(model_dir) / "tokenizer.json") || fs::exists(fs::path(model_dir) / "tiktoken.model");
}

PromptEncoder::PromptEncoder(const std::string& model_dir, int64_t vocab_size) : vocab_size_(vocab_size) {
  if (has_tokenizer_files(model_dir)) {
    tokenizer_ = load_tokenizer(model_dir);
    if (tokenizer_->vocab_size() > vocab_size)
      throw Error(model_dir + ": tokenizer has " + std::to_string(tokenizer_->vocab_size()) +
                  " ids but config.json vocab_size is " + std::to_string(vocab_size));
  }
}

std::vector<int32_t> PromptEncoder::encode_text(const std::string& text) const {
  if (tokenizer_) return tokenizer_->encode(text);
  std::vector<int32_t> ids;
  for (unsigned char c : text) ids.push_back(static_cast<int32_t>(c % vocab_size_));
  return ids;
}

std::string PromptEncoder::wrap(const std::string& text, bool chat) const {
  if (!chat || !tokenizer_) return text;
  return render_chat(*tokenizer_, {{"user", text}}, /*add_generation_prompt=*/true);
}

std::vector<int32_t> PromptEncoder::encode(const PromptText& prompt, int64_t input_max_len, bool chat) const {
  std::vector<int32_t> ids = encode_text(wrap(prompt.whole(), chat));
  if (static_cast<int64_t>(ids.size()) > input_max_len && !prompt.context.empty()) {
    // Budget for the context = limit minus what everything else costs.
    const auto frame = encode_text(wrap(prompt.prefix + prompt.suffix, chat));
    const int64_t budget = std::max<int64_t>(0, input_max_len - static_cast<int64_t>(frame.size()));
    auto ctx = encode_text(prompt.context);
    if (static_cast<int64_t>(ctx.size()) > budget) ctx.resize(static_cast<size_t>(budget));
    const std::string cut = tokenizer_ ? tokenizer_->decode(ctx) : prompt.context.substr(0, ctx.size());
    ids = encode_text(wrap(prompt.prefix + cut + prompt.suffix, chat));
  }
  if (static_cast<int64_t>(ids.size()) > input_max_len) ids.resize(static_cast<size_t>(input_max_len));
  if (ids.empty())
    throw Error((prompt.source.empty() ? std::string("prompt") : prompt.source) +
                ": encodes to no tokens (empty text, or data_config.input_max_len too small)");
  return ids;
}

std::string PromptEncoder::decode(const std::vector<int32_t>& ids) const {
  if (tokenizer_) {  // generated ids may be padding rows of the model's vocabulary: they have no text
    std::vector<int32_t> known;
    for (int32_t id : ids)
      if (tokenizer_->defined(id)) known.push_back(id);
    return tokenizer_->decode(known);
  }
  std::string s = "[no tokenizer; ids:";
  for (int32_t id : ids) s += " " + std::to_string(id);
  return s + "]";
}

}  // namespace dsinfer
