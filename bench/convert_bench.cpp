// Conversion memory and throughput on a large synthetic FP8 checkpoint:
// generates >= 2 GB of FP8 weights (DeepSeek-R1 expert shapes, several
// shards, a BF16 embedding and an ignored kv_b_proj), runs
// `dsinfer convert` as a child for each mode, and prints its peak RSS
// (wait4) and MB/s. Fails (exit 1) if a child exceeds the RSS limit.
//   convert_bench [--gb 2.2] [--dir /tmp] [--modes bfloat16,w8a8c16] [--limit-gb 3] [--threads N]
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "io/safetensors_writer.h"

namespace fs = std::filesystem;
using dsinfer::DType;
using dsinfer::TensorSpec;

namespace {

struct Args {
  double gb = 2.2;
  std::string dir = fs::temp_directory_path().string();
  std::vector<std::string> modes = {"bfloat16", "w8a8c16"};
  double limit_gb = 3.0;
  int threads = 0;
};

uint64_t xorshift(uint64_t& s) {
  s ^= s << 13, s ^= s >> 7, s ^= s << 17;
  return s;
}

void fill_fp8(std::vector<uint8_t>& buf, uint64_t seed) {
  uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1;
  for (size_t i = 0; i + 8 <= buf.size(); i += 8) {
    uint64_t r = xorshift(s);
    std::memcpy(&buf[i], &r, 8);
  }
  for (auto& b : buf)
    if ((b & 0x7f) == 0x7f) b ^= 1;  // no NaN encodings
}

// Writes shards of ~shard_bytes until the FP8 weights reach total_bytes.
size_t generate_checkpoint(const std::string& dir, size_t total_bytes) {
  fs::create_directories(dir);
  fs::copy_file(DSINFER_CONFIG_TEMPLATE, fs::path(dir) / "config.json");
  const int64_t H = 7168, I = 2048;  // DeepSeek-R1 hidden and expert sizes
  const size_t per_expert = 3 * size_t(H) * I;
  const size_t experts_total = (total_bytes + per_expert - 1) / per_expert;
  const size_t experts_per_shard = 32;  // ~1.4 GB of FP8 per shard, like the release's ~4.3 GB shards scaled down
  size_t fp8 = 0, shard = 0;
  const size_t n_shards = (experts_total + experts_per_shard - 1) / experts_per_shard;
  std::vector<uint8_t> buf;
  for (size_t e0 = 0; e0 < experts_total; e0 += experts_per_shard, ++shard) {
    std::vector<TensorSpec> specs;
    std::vector<uint64_t> seeds;
    if (shard == 0) {
      specs.push_back({"model.embed_tokens.weight", DType::BF16, {32768, H}});  // copied as is
      specs.push_back({"model.layers.0.self_attn.kv_b_proj.weight", DType::F8_E4M3, {32768, 512}});  // kept bf16
      specs.push_back({"model.layers.0.self_attn.kv_b_proj.weight_scale_inv", DType::F32, {256, 4}});
    }
    for (size_t e = e0; e < std::min(experts_total, e0 + experts_per_shard); ++e) {
      const std::string p = "model.layers." + std::to_string(3 + e / 256) + ".mlp.experts." + std::to_string(e % 256);
      for (const char* proj : {"gate_proj", "up_proj", "down_proj"}) {
        const bool down = std::strcmp(proj, "down_proj") == 0;
        const int64_t rows = down ? H : I, cols = down ? I : H;
        specs.push_back({p + "." + proj + ".weight", DType::F8_E4M3, {rows, cols}});
        specs.push_back({p + "." + proj + ".weight_scale_inv", DType::F32, {(rows + 127) / 128, (cols + 127) / 128}});
      }
    }
    char name[64];
    std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", shard + 1, n_shards);
    dsinfer::SafetensorsWriter w((fs::path(dir) / name).string(), specs, {{"format", "pt"}});
    for (size_t i = 0; i < specs.size(); ++i) {
      const auto& s = specs[i];
      buf.resize(s.nbytes());
      if (s.dtype == DType::F32) {
        float* f = reinterpret_cast<float*>(buf.data());
        for (size_t k = 0; k < buf.size() / 4; ++k) f[k] = 1e-4f * static_cast<float>(1 + (k * 7 + i) % 13);
      } else if (s.dtype == DType::F8_E4M3) {
        fill_fp8(buf, shard * 100000 + i);
        fp8 += buf.size();
      } else {
        for (size_t k = 0; k < buf.size(); k += 2) buf[k] = 0, buf[k + 1] = static_cast<uint8_t>(0x3c + (k >> 9) % 3);
      }
      w.write_next(buf.data(), buf.size());
    }
    w.finish();
  }
  return fp8;
}

size_t dir_bytes(const std::string& dir) {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file()) n += e.file_size();
  return n;
}

struct ChildRun {
  int exit_code = -1;
  long peak_rss_kb = 0;
  double seconds = 0;
};

ChildRun run_convert(const std::vector<std::string>& argv) {
  std::vector<char*> cargs;
  for (const auto& a : argv) cargs.push_back(const_cast<char*>(a.c_str()));
  cargs.push_back(nullptr);
  const auto t0 = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execv(cargs[0], cargs.data());
    ::_exit(127);
  }
  int status = 0;
  struct rusage ru {};
  ::wait4(pid, &status, 0, &ru);
  ChildRun r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.peak_rss_kb = ru.ru_maxrss;  // kilobytes on Linux
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--gb") a.gb = std::stod(v);
    else if (k == "--dir") a.dir = v;
    else if (k == "--limit-gb") a.limit_gb = std::stod(v);
    else if (k == "--threads") a.threads = std::stoi(v);
    else if (k == "--modes") {
      a.modes.clear();
      std::stringstream ss(v);
      for (std::string m; std::getline(ss, m, ',');) a.modes.push_back(m);
    } else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  std::string root = (fs::path(a.dir) / "dsinfer-convert-bench-XXXXXX").string();
  if (!::mkdtemp(root.data())) {
    std::perror("mkdtemp");
    return 2;
  }
  const std::string in = root + "/fp8", out = root + "/out";
  int rc = 0;
  try {
    const auto t0 = std::chrono::steady_clock::now();
    const size_t fp8 = generate_checkpoint(in, static_cast<size_t>(a.gb * 1e9));
    const size_t in_bytes = dir_bytes(in);
    std::printf("generated %s: %.2f GB of FP8 weights, %.2f GB on disk, in %.1f s\n", in.c_str(), fp8 / 1e9,
                in_bytes / 1e9, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    std::fflush(stdout);
    for (const auto& mode : a.modes) {
      std::vector<std::string> args = {DSINFER_BINARY, "convert", "--input_fp8_hf_path", in, "--output_hf_path", out,
                                       "--quant_mode", mode, "--force"};
      if (a.threads > 0) args.insert(args.end(), {"--threads", std::to_string(a.threads)});
      const ChildRun r = run_convert(args);
      const double rss_gb = r.peak_rss_kb * 1024.0 / 1e9;
      const bool ok = r.exit_code == 0 && rss_gb < a.limit_gb;
      std::printf("[convert_bench] %-9s exit %d  %.1f s  input %.2f GB -> output %.2f GB  %.1f MB/s (input)  "
                  "peak RSS %.3f GB (limit %.1f GB) %s\n",
                  mode.c_str(), r.exit_code, r.seconds, in_bytes / 1e9, r.exit_code == 0 ? dir_bytes(out) / 1e9 : 0.0,
                  in_bytes / 1e6 / r.seconds, rss_gb, a.limit_gb, ok ? "OK" : "FAIL");
      std::fflush(stdout);
      if (!ok) rc = 1;
      fs::remove_all(out);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "convert_bench: %s\n", e.what());
    rc = 2;
  }
  fs::remove_all(root);
  return rc;
}
