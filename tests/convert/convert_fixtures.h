#pragma once
// Shared by the converter tests: tiny checkpoints converted once per test
// process, SHA-256, and small synthetic FP8 checkpoints for error cases.
#include <openssl/evp.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "convert/convert_checkpoint.h"
#include "io/safetensors_writer.h"
#include "support/test_support.h"

namespace dsinfer::test {

// Removes every directory it was given when the test process exits.
struct TempDirs {
  std::vector<std::string> dirs;
  ~TempDirs() {
    std::error_code ec;
    for (const auto& d : dirs) std::filesystem::remove_all(d, ec);
  }
};
inline TempDirs& temp_dirs() {
  static TempDirs d;
  return d;
}
inline std::string scratch_dir(const std::string& tag) {
  auto d = make_temp_dir(tag);
  temp_dirs().dirs.push_back(d);
  return d;
}

// tests/data/<model> converted with `mode` (library call, no progress output).
inline const std::string& converted_checkpoint(const std::string& model, convert::QuantMode mode) {
  static std::mutex mu;
  static std::map<std::pair<std::string, convert::QuantMode>, std::string> done;
  std::lock_guard<std::mutex> lock(mu);
  auto key = std::make_pair(model, mode);
  auto it = done.find(key);
  if (it != done.end()) return it->second;
  convert::ConvertOptions o;
  o.input_dir = data_path(model);
  o.output_dir = scratch_dir("conv") + "/" + convert::quant_mode_name(mode);
  o.mode = mode;
  o.progress = convert::ProgressStyle::Quiet;
  convert::convert_checkpoint(o);
  return done.emplace(key, o.output_dir).first->second;
}

inline void write_text(const std::string& path, const std::string& text) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) throw std::runtime_error("cannot write " + path);
  std::fwrite(text.data(), 1, text.size(), f);
  std::fclose(f);
}

inline std::string sha256_hex(const void* data, size_t n) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data, n, md, &len, EVP_sha256(), nullptr);
  std::string hex;
  char buf[3];
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", md[i]);
    hex += buf;
  }
  return hex;
}

// Entries next to `out` that a conversion could leave behind (OUT.tmp-*, OUT.old-*).
inline std::vector<std::string> leftovers(const std::string& out) {
  namespace fs = std::filesystem;
  const fs::path p(out);
  std::vector<std::string> found;
  for (const auto& e : fs::directory_iterator(p.parent_path())) {
    const std::string n = e.path().filename().string();
    if (n.rfind(p.filename().string() + ".tmp-", 0) == 0 || n.rfind(p.filename().string() + ".old-", 0) == 0)
      found.push_back(n);
  }
  return found;
}

// A minimal "FP8 release": kimi-k2-tiny's config.json plus one shard with an
// FP8 weight [200, 300] (2 x 3 blocks of 128), its scale_inv and a BF16 norm.
// `edit` may change the tensor list before it is written.
inline std::string write_fake_fp8_checkpoint(const std::string& dir,
                                             void (*edit)(std::vector<OwnedTensor>&) = nullptr) {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  fs::copy_file(data_path("kimi-k2-tiny/config.json"), fs::path(dir) / "config.json");
  std::vector<OwnedTensor> t(3);
  t[0].spec = {"model.layers.0.mlp.down_proj.weight", DType::F8_E4M3, {200, 300}};
  t[0].bytes.resize(200 * 300);
  for (size_t i = 0; i < t[0].bytes.size(); ++i) t[0].bytes[i] = static_cast<uint8_t>((i * 37) % 0x7e);
  t[1].spec = {"model.layers.0.mlp.down_proj.weight_scale_inv", DType::F32, {2, 3}};
  const std::vector<float> s = {0.5f, 0.25f, 1.f, 2.f, 0.125f, 4.f};
  t[1].bytes.resize(sizeof(float) * s.size());
  std::memcpy(t[1].bytes.data(), s.data(), t[1].bytes.size());
  t[2].spec = {"model.norm.weight", DType::BF16, {8}};
  t[2].bytes.assign(16, 0x3f);
  if (edit) edit(t);
  write_safetensors((fs::path(dir) / "model-00001-of-00001.safetensors").string(), t);
  return dir;
}

}  // namespace dsinfer::test
