// dsinfer generate: continuation of a prompt (greedy unless sampling flags say
// otherwise), written as JSON.
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands/command.h"
#include "cli/commands/engine_options.h"
#include "cli/commands/parallel_setup.h"
#include "cli/commands/token_ids.h"
#include "io/error.h"
#include "io/model_config.h"
#include "io/output_file.h"
#include "runtime/generation.h"
#include "tokenizer/tokenizer.h"

namespace dsinfer::cli {

void register_generate_command(CLI::App& app, Action& action) {
  struct Opts {
    std::string model, ids, ids_file, prompt, output_json;
    bool chat = false;
    int64_t max_new_tokens = 16;
    bool stop_at_eos = false;
    int64_t page_size = 128;
    EngineOptions engine;
    ParallelFlags parallel;
    SamplingParams sampling;
    int64_t seed = -1;
    int64_t speculative_tokens = 0;
  };
  auto opts = std::make_shared<Opts>();
  CLI::App* cmd = app.add_subcommand("generate", "Generation from prompt token ids or text (greedy by default)");
  cmd->add_option("--model", opts->model, "Model directory (config.json + safetensors)")->required();
  auto* ids = cmd->add_option("--ids", opts->ids, "Comma-separated prompt token ids, e.g. 5,17,9");
  auto* prompt = cmd->add_option("--prompt", opts->prompt, "Prompt text (tokenized with the model directory's tokenizer)");
  auto* ids_file = cmd->add_option("--ids-file", opts->ids_file,
                                   "File of prompt token ids (separated by commas, spaces or newlines)");
  ids->excludes(prompt);
  ids_file->excludes(prompt);
  ids_file->excludes(ids);
  cmd->add_flag("--chat", opts->chat, "With --prompt: render it as a user turn with the model's chat template")
      ->needs(prompt);
  cmd->add_option("--max-new-tokens", opts->max_new_tokens, "Number of tokens to generate")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--output-json", opts->output_json,
                  "Write {\"prompt_ids\": [...], \"generated_ids\": [...]} here (default: stdout)");
  cmd->add_flag("--stop-at-eos", opts->stop_at_eos, "Stop early when the model emits an EOS token");
  cmd->add_option("--page-size", opts->page_size, "KV cache page size in tokens")
      ->check(CLI::Range(int64_t{1}, int64_t{65536}))
      ->capture_default_str();
  SamplingParams& sp = opts->sampling;
  cmd->add_option("--temperature", sp.temperature, "Sampling temperature (0: greedy)")->capture_default_str();
  cmd->add_option("--top-k", sp.top_k, "Keep the k most likely tokens (0: off)")->capture_default_str();
  cmd->add_option("--top-p", sp.top_p, "Nucleus sampling: keep the smallest set with this probability mass (1: off)")
      ->capture_default_str();
  cmd->add_option("--min-p", sp.min_p, "Keep tokens with probability >= min-p x the most likely one's (0: off)")
      ->capture_default_str();
  cmd->add_option("--seed", opts->seed, "Seed of the sampler's random stream (-1: random)")->capture_default_str();
  cmd->add_option("--repetition-penalty", sp.repetition_penalty,
                  "Penalize tokens already in the prompt or output (1: off; >1 discourages)")
      ->capture_default_str();
  cmd->add_option("--presence-penalty", sp.presence_penalty, "Subtract from generated tokens' logits once (OpenAI)")
      ->capture_default_str();
  cmd->add_option("--frequency-penalty", sp.frequency_penalty,
                  "Subtract per occurrence in the output from a token's logit (OpenAI)")
      ->capture_default_str();
  cmd->add_option("--top-logprobs", sp.top_logprobs,
                  "Also write each generated token's logprob and this many alternatives (\"logprobs\" in the JSON)")
      ->check(CLI::Range(0, 20));
  cmd->add_option("--speculative-tokens", opts->speculative_tokens,
                  "MTP speculative decoding with this many drafts per step (1-3; 0: off; greedy only). Adds "
                  "\"speculative\": {next_n, verify_steps, acceptance per draft position, mean accepted, tokens "
                  "per step} to the JSON")
      ->check(CLI::Range(0, 3))
      ->capture_default_str();
  add_engine_options(cmd, opts->engine);
  add_parallel_flags(cmd, opts->parallel);
  cmd->callback([&action, opts] {
    action = [opts] {
      // Under mpirun the request belongs to the first attention-DP group; rank 0 writes.
      auto parallel = open_parallel(opts->parallel);
      std::unique_ptr<Tokenizer> tokenizer;
      GenerationRequest req;
      std::unique_ptr<Engine> engine;
      const int64_t k = opts->speculative_tokens;
      agreed([&] {
        if (opts->ids.empty() && opts->ids_file.empty() && opts->prompt.empty())
          throw Error("generate: give the prompt with --ids, --ids-file or --prompt");
        const auto precision = apply_engine_options(opts->engine, "generate", false);
        if (!opts->prompt.empty()) {
          tokenizer = load_tokenizer(opts->model);
          req.prompt = opts->chat ? encode_chat(*tokenizer, {{"user", opts->prompt}}, true) : tokenizer->encode(opts->prompt);
          if (req.prompt.empty()) throw Error("--prompt: empty prompt (no tokens)");
        } else {
          req.prompt = token_ids_from(opts->ids, opts->ids_file);
        }
        req.max_new_tokens = opts->max_new_tokens;
        req.stop_at_eos = opts->stop_at_eos;
        req.sampling = opts->sampling;
        if (opts->seed >= 0) req.sampling.seed = static_cast<uint64_t>(opts->seed);
        req.sampling.logprobs = req.sampling.top_logprobs > 0;
        validate(req.sampling);
        const ModelConfig mc = load_model_config(opts->model);
        const auto prompt_len = static_cast<int64_t>(req.prompt.size());
        if (req.max_new_tokens > mc.max_position_embeddings - prompt_len)  // before any page is planned
          throw Error("generate: the prompt (" + std::to_string(prompt_len) + " tokens) + --max-new-tokens " +
                      std::to_string(req.max_new_tokens) + " exceeds the model's max_position_embeddings (" +
                      std::to_string(mc.max_position_embeddings) + ", " + mc.path + ")");
        EngineConfig ec{opts->page_size, pages_for_requests({req}, opts->page_size, k), precision};
        ec.mtp = k > 0;
        ec.parallel = parallel;
        engine = Engine::open(opts->model, ec);
        engine->model().allow_nonfinite(opts->engine.allow_nonfinite);
      });
      const bool mine = !parallel || parallel->attn_dp_rank() == 0;
      GenerationOptions go;
      SpeculativeStats stats;
      go.speculative_tokens = k;
      go.speculative_stats = &stats;
      const auto results =
          generate(*engine, mine ? std::vector<GenerationRequest>{req} : std::vector<GenerationRequest>{}, go);
      if (!is_root()) return 0;
      nlohmann::json out = {{"prompt_ids", req.prompt}, {"generated_ids", results[0].generated}};
      if (k > 0) out["speculative"] = stats.to_json();
      if (tokenizer) out["generated_text"] = tokenizer->decode(results[0].generated);
      if (req.sampling.logprobs) {
        nlohmann::json lp = nlohmann::json::array();
        for (const SampledToken& t : results[0].tokens) {
          nlohmann::json top = nlohmann::json::array();
          for (const TokenLogprob& a : t.top_logprobs) top.push_back({{"id", a.token}, {"logprob", a.logprob}});
          lp.push_back({{"id", t.token}, {"logprob", t.logprob}, {"top_logprobs", top}});
        }
        out["logprobs"] = lp;
      }
      if (opts->output_json.empty()) {
        std::printf("%s\n", out.dump().c_str());
      } else {
        write_output_file(opts->output_json, out.dump() + "\n", "--output-json", model_input_files(opts->model));
      }
      return 0;
    };
  });
}

}  // namespace dsinfer::cli
