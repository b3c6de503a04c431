#include "support/test_support.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace dsinfer::test {

std::string data_path(const std::string& rel) { return std::string(DSINFER_TEST_DATA) + "/" + rel; }

std::string make_temp_dir(const std::string& tag) {
  std::string templ = (std::filesystem::temp_directory_path() / ("dsinfer-" + tag + "-XXXXXX")).string();
  if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return templ;
}

std::string dsinfer_binary() { return DSINFER_BINARY; }
std::string source_root() { return DSINFER_SOURCE_ROOT; }

CommandResult run_dsinfer(const std::string& args) { return run_shell(std::string(DSINFER_BINARY) + " " + args); }

CommandResult run_shell(const std::string& command_line) {
  std::string cmd = command_line + " 2>&1";
  CommandResult r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) throw std::runtime_error("popen failed");
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

long peak_rss_of_dsinfer(const std::string& args, int* exit_code) {
  // Not our own fork's rusage: a forked child starts as a copy of this test
  // process, and its peak RSS would include whatever the test process
  // already holds. GNU time forks dsinfer from its own small process.
  const std::string dir = make_temp_dir("peak-rss");
  const std::string report = dir + "/maxrss";
  const CommandResult r = run_shell("/usr/bin/time -f %M -o " + report + " " + std::string(DSINFER_BINARY) + " " + args);
  if (exit_code) *exit_code = r.exit_code;
  // GNU time writes "Command exited with non-zero status N" first when the
  // command failed: the figure is the last word of the report.
  std::ifstream f(report);
  long kb = -1;
  for (std::string word; f >> word;) {
    char* end = nullptr;
    const long v = std::strtol(word.c_str(), &end, 10);
    if (end && *end == '\0' && !word.empty()) kb = v;
  }
  std::filesystem::remove_all(dir);
  return kb < 0 ? -1 : kb * 1024L;  // the report is in kilobytes
}

}  // namespace dsinfer::test

#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "support/golden.h"

namespace dsinfer::test {
namespace {

template <typename Out, typename In>
std::vector<Out> widen(const TensorView& t) {
  auto s = t.as<In>();
  return std::vector<Out>(s.begin(), s.end());
}

Golden read_golden(const std::string& name) {
  Golden g;
  g.model_dir = data_path(name);
  SafetensorsFile f(data_path("golden/" + name + ".golden.safetensors"));
  std::ifstream js(data_path("golden/" + name + ".golden.json"));
  const auto meta = nlohmann::json::parse(js);
  const auto& t = f.tensors();
  for (size_t i = 0;; ++i) {
    const std::string p = "p" + std::to_string(i);
    if (!t.count(p + ".ids")) break;
    GoldenPrompt gp;
    gp.ids = widen<int32_t, int64_t>(t.at(p + ".ids"));
    gp.gen_ids = widen<int32_t, int64_t>(t.at(p + ".gen_ids"));
    gp.logits = widen<float, float>(t.at(p + ".logits"));
    gp.gen_logits = widen<float, float>(t.at(p + ".gen_logits"));
    gp.min_margin = meta["prompts"][i]["min_margin"].get<double>();
    g.vocab = t.at(p + ".logits").shape[1];
    g.prompts.push_back(std::move(gp));
  }
  return g;
}

}  // namespace

const Golden& golden(const std::string& name) {
  static std::mutex mu;
  static std::map<std::string, Golden> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(name);
  if (it == cache.end()) it = cache.emplace(name, read_golden(name)).first;
  return it->second;
}

}  // namespace dsinfer::test
