// Single-thread encode throughput of both tokenizers on 1 MB inputs:
//   corpus:     tests/data/tokenizers/long_text.txt repeated to 1 MB;
//   no_space:   the corpus with all whitespace removed, repeated to 1 MB;
//   one_letter: 1 MB of 'a' (a single 1 MB pre-token piece);
//   random:     1 MB of seeded random lowercase letters (one huge piece, few repeats).
// Reported as bytes_per_second (MB/s = 2^20 bytes per second).
// Usage: tokenizer_bench [--data DIR] [google-benchmark flags]; DIR defaults
// to the source tree's tests/data/tokenizers.
#include <benchmark/benchmark.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>

#include "tokenizer/tokenizer.h"
#include "io/utf8.h"

namespace {

std::string g_data_dir = DSINFER_TEST_DATA "/tokenizers";
constexpr size_t kInputBytes = 1 << 20;

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error(path + ": cannot open");
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Repeats `unit` and cuts at a character boundary near kInputBytes.
std::string repeat_to_size(const std::string& unit) {
  std::string s;
  while (s.size() < kInputBytes) s += unit;
  size_t cut = kInputBytes;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  return s;
}

std::string without_whitespace(const std::string& text) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t start = pos;
    const uint32_t cp = dsinfer::utf8::next_code_point(text, pos);
    const bool space = cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
                       (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
                       cp == 0x205F || cp == 0x3000;
    if (!space) out.append(text, start, pos - start);
  }
  return out;
}

const std::string& input(const std::string& kind) {
  static std::map<std::string, std::string> cache;
  auto& s = cache[kind];
  if (!s.empty()) return s;
  if (kind == "corpus") {
    s = repeat_to_size(read_file(g_data_dir + "/long_text.txt"));
  } else if (kind == "no_space") {
    s = repeat_to_size(without_whitespace(read_file(g_data_dir + "/long_text.txt")));
  } else if (kind == "one_letter") {
    s.assign(kInputBytes, 'a');
  } else {
    std::mt19937 rng(42);
    s.resize(kInputBytes);
    for (auto& c : s) c = static_cast<char>('a' + rng() % 26);
  }
  return s;
}

const dsinfer::Tokenizer& tokenizer(const std::string& name) {
  static std::map<std::string, std::unique_ptr<dsinfer::Tokenizer>> cache;
  auto& t = cache[name];
  if (!t) t = dsinfer::load_tokenizer(g_data_dir + "/" + name);
  return *t;
}

void encode(benchmark::State& state, const std::string& model, const std::string& kind) {
  const auto& tok = tokenizer(model);
  const std::string& text = input(kind);
  size_t tokens = 0;
  for (auto _ : state) {
    auto ids = tok.encode(text);
    tokens = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["tokens"] = static_cast<double>(tokens);
  state.counters["MB/s"] = benchmark::Counter(static_cast<double>(text.size()) / (1 << 20),
                                              benchmark::Counter::kIsIterationInvariantRate);
}

void register_all() {
  for (const char* model : {"deepseek-v3", "kimi-k2"})
    for (const char* kind : {"corpus", "no_space", "one_letter", "random"})
      benchmark::RegisterBenchmark((std::string("encode/") + model + "/" + kind).c_str(),
                                   [model = std::string(model), kind = std::string(kind)](benchmark::State& s) {
                                     encode(s, model, kind);
                                   })
          ->Unit(benchmark::kMillisecond)
          ->MinTime(1.0);
}

}  // namespace

int main(int argc, char** argv) {
  // Take --data DIR out before Google Benchmark parses the rest.
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--data") == 0 && i + 1 < argc) {
      g_data_dir = argv[++i];
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  benchmark::Initialize(&argc, argv);
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
