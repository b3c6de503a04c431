// dsinfer tokenize / detokenize: text <-> token ids with the model's own
// tokenizer (DeepSeek tokenizer.json or Kimi tiktoken.model).
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "cli/commands/command.h"
#include "cli/commands/token_ids.h"
#include "io/error.h"
#include "io/strict_json.h"
#include "tokenizer/tokenizer.h"
#include "io/utf8.h"

namespace dsinfer::cli {
namespace {

constexpr const char* kModelHelp =
    "Model directory holding the tokenizer: tokenizer.json (DeepSeek-V3/R1) or tiktoken.model (Kimi-K2), "
    "plus tokenizer_config.json (chat template, special tokens)";

std::string read_file(const std::string& path, const std::string& flag) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(flag + " " + path + ": cannot open");
  std::ostringstream ss;
  ss << f.rdbuf();
  if (f.bad()) throw Error(flag + " " + path + ": read failed");
  return ss.str();
}

std::vector<ChatMessage> read_chat_json(const std::string& path) {
  const std::string where = "--chat-json " + path;
  const nlohmann::json j = parse_json_strict(read_file(path, "--chat-json"), where);
  if (!j.is_array()) throw Error(where + ": expected a JSON list of {\"role\", \"content\"} objects");
  std::vector<ChatMessage> messages;
  for (size_t i = 0; i < j.size(); ++i) {
    const auto& m = j[i];
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string() || !m.contains("content") ||
        !m["content"].is_string())
      throw Error(where + ": message " + std::to_string(i) + " needs string fields 'role' and 'content'");
    messages.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
  }
  return messages;
}

}  // namespace

void register_tokenize_command(CLI::App& app, Action& action) {
  struct Opts {
    std::string model, text, text_file, chat_json;
  };
  auto opts = std::make_shared<Opts>();
  CLI::App* cmd = app.add_subcommand(
      "tokenize",
      "Encode text into token ids; prints {\"ids\": [...]}. Special-token strings in the text become their "
      "ids; no BOS is added. Give exactly one of --text, --text-file, --chat-json");
  cmd->add_option("--model", opts->model, kModelHelp)->required();
  auto* text = cmd->add_option("--text", opts->text, "Text to encode (UTF-8)");
  auto* file = cmd->add_option("--text-file", opts->text_file, "Read the text to encode from this file (UTF-8)");
  auto* chat = cmd->add_option("--chat-json", opts->chat_json,
                               "JSON file with a list of {\"role\", \"content\"} messages (roles: system, user, "
                               "assistant, tool); encodes the conversation rendered with the model's chat "
                               "template followed by the assistant generation prompt");
  text->excludes(file)->excludes(chat);
  file->excludes(chat);
  cmd->callback([&action, opts, text, file, chat] {
    if (text->count() + file->count() + chat->count() != 1)
      throw CLI::ValidationError("tokenize", "give exactly one of --text, --text-file, --chat-json");
    const bool use_file = file->count() > 0, use_chat = chat->count() > 0;
    action = [opts, use_file, use_chat] {
      const auto tok = load_tokenizer(opts->model);
      std::vector<int32_t> ids;
      if (use_chat) {
        ids = encode_chat(*tok, read_chat_json(opts->chat_json), /*add_generation_prompt=*/true);
      } else {
        const std::string input = use_file ? read_file(opts->text_file, "--text-file") : opts->text;
        utf8::require_valid(input, use_file ? "--text-file " + opts->text_file : std::string("--text"));
        ids = tok->encode(input);
      }
      std::printf("%s\n", nlohmann::json{{"ids", ids}}.dump().c_str());
      return 0;
    };
  });
}

void register_detokenize_command(CLI::App& app, Action& action) {
  struct Opts {
    std::string model, ids;
  };
  auto opts = std::make_shared<Opts>();
  CLI::App* cmd = app.add_subcommand(
      "detokenize",
      "Decode token ids into text and print it exactly (no newline is added). Bytes that do not form valid "
      "UTF-8 are printed as U+FFFD");
  cmd->add_option("--model", opts->model, kModelHelp)->required();
  cmd->add_option("--ids", opts->ids, "Comma-separated token ids, e.g. 5,17,9")->required();
  cmd->callback([&action, opts] {
    action = [opts] {
      const auto ids = parse_token_ids(opts->ids, "--ids");
      const auto tok = load_tokenizer(opts->model);
      const std::string text = tok->decode(ids);
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::fflush(stdout);
      return 0;
    };
  });
}

}  // namespace dsinfer::cli
