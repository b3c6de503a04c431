// dsinfer bench-serve: client-side load benchmark of a running server.
#include <cstdio>
#include <fstream>
#include <memory>

#include "bench/serve_bench.h"
#include "cli/commands/command.h"
#include "io/error.h"

namespace dsinfer::cli {

void register_bench_serve_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<bench::ServeBenchOptions>();
  auto json_path = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "bench-serve", "Drive a running OpenAI-compatible server at several concurrencies (fixed-seed request mix)");
  cmd->add_option("--url", o->url, "Server base URL")->capture_default_str();
  cmd->add_option("--api-key", o->api_key, "Bearer key of the server");
  cmd->add_option("--model", o->model, "Model name to send (default: none, the server's)");
  cmd->add_option("--concurrency", o->concurrency, "Concurrent clients per level")->delimiter(',');
  cmd->add_option("--requests", o->requests_per_level, "Requests per level (0: 4 x concurrency, >= 8)");
  cmd->add_option("--prompt-lens", o->prompt_lens, "Prompt lengths in tokens, drawn uniformly")->delimiter(',');
  cmd->add_option("--output-lens", o->output_lens, "Output lengths in tokens, drawn uniformly")->delimiter(',');
  cmd->add_option("--shared-prefix", o->shared_prefix, "Tokens of a system prompt shared by every request");
  cmd->add_option("--warmup", o->warmup, "Untimed requests before each level (warm caches)")->capture_default_str();
  cmd->add_option("--seed", o->seed, "Seed of the request mix")->capture_default_str();
  cmd->add_option("--json", *json_path, "Write the results as JSON here");
  cmd->callback([&action, o, json_path] {
    action = [o, json_path] {
      if (o->concurrency.empty() || o->prompt_lens.empty() || o->output_lens.empty())
        throw Error("bench-serve: --concurrency, --prompt-lens and --output-lens must not be empty");
      const auto levels = bench::run_serve_bench(*o);
      std::printf("%s", bench::serve_bench_table(levels).c_str());
      if (!json_path->empty()) {
        std::ofstream f(*json_path);
        if (!f) throw Error("bench-serve: cannot write --json file " + *json_path);
        f << bench::serve_bench_json(*o, levels).dump(2) << "\n";
      }
      return 0;
    };
  });
}

}  // namespace dsinfer::cli
