#include "convert/ckv_calibration.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

#include "io/error.h"
#include "io/safetensors.h"
#include "io/numeric_formats.h"

namespace dsinfer::convert {
namespace fs = std::filesystem;

std::string ckv_scale_name(int64_t layer) { return "model.layers." + std::to_string(layer) + ".self_attn.ckv_scale"; }

std::vector<float> calibrate_ckv_scales(const DeepseekModel& model, const CalibrationSet& set,
                                        std::optional<double> percentile) {
  if (percentile && !(*percentile > 0.0 && *percentile <= 100.0))
    throw Error("--calib-percentile must be in (0, 100], got " + std::to_string(*percentile));
  const ModelConfig& cfg = model.config();
  // The decoder layers' latent caches, then the MTP layer's (fed the main
  // model's final-normed hidden states, as at run time).
  const int64_t n_main = cfg.num_hidden_layers, rank = cfg.kv_lora_rank;
  const int64_t n_layers = n_main + (model.has_mtp() ? 1 : 0);
  std::vector<float> amax(static_cast<size_t>(n_layers), 0.f);
  std::vector<std::vector<float>> magnitudes(percentile ? static_cast<size_t>(n_layers) : 0);
  constexpr int64_t kPage = 128;
  std::vector<float> c_kv(static_cast<size_t>(rank));
  auto observe = [&](const PagedLatentCache& cache, SequenceId s, int64_t cache_layer, int64_t l, int64_t n) {
    for (int64_t pos = 0; pos < n; ++pos) {
      cache.load_latent(s, cache_layer, pos, c_kv.data());
      for (int64_t i = 0; i < rank; ++i) {
        const float a = std::fabs(c_kv[i]);
        amax[l] = std::max(amax[l], a);
        if (percentile) magnitudes[l].push_back(a);
      }
    }
  };
  for (const auto& ids : set.sequences) {
    const int64_t n = static_cast<int64_t>(ids.size());
    // The model is loaded as W8A8C16, so the cache holds the float latent.
    PagedLatentCache cache = model.make_cache(kPage, (n + kPage - 1) / kPage);
    const SequenceId s = cache.add_sequence();
    cache.reserve(s, n);
    const BatchEntry entry{s, ids, false, false};
    std::vector<float> hidden;
    ForwardOptions options;
    if (model.has_mtp()) options.final_hidden = &hidden;  // the MTP layer's input
    model.forward(std::span<const BatchEntry>(&entry, 1), cache, options);
    for (int64_t l = 0; l < n_main; ++l) observe(cache, s, l, l, n);
    if (model.has_mtp() && n >= 2) {
      PagedLatentCache mtp = model.make_mtp_cache(kPage, (n + kPage - 1) / kPage);
      const SequenceId m = mtp.add_sequence();
      mtp.reserve(m, n - 1);
      const BatchEntry shifted{m, std::span<const int32_t>(ids).subspan(1), false, false};
      model.forward_mtp(std::span<const BatchEntry>(&shifted, 1), hidden.data(), mtp);
      observe(mtp, m, 0, n_main, n - 1);
    }
  }
  std::vector<float> scales(static_cast<size_t>(n_layers));
  for (int64_t l = 0; l < n_layers; ++l) {
    float bound = amax[l];
    if (percentile && !magnitudes[l].empty()) {
      auto& m = magnitudes[l];
      const size_t k = std::min(m.size() - 1, static_cast<size_t>(std::ceil(*percentile / 100.0 * m.size())) - 1);
      std::nth_element(m.begin(), m.begin() + static_cast<std::ptrdiff_t>(k), m.end());
      bound = m[k];
    }
    // The runtime requires a positive scale; an all-zero latent never happens with real weights.
    scales[l] = bound > 0.f ? bound / 127.0f : 1e-6f;
  }
  return scales;
}

std::vector<float> read_ckv_scales(const std::string& dir, int64_t n_layers) {
  if (!fs::is_directory(dir)) throw Error(dir + ": --quant_param_path is not a directory");
  std::map<std::string, float> found;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".safetensors") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    SafetensorsFile f(path.string());
    for (const auto& [name, t] : f.tensors()) {
      if (name.find(".self_attn.ckv_scale") == std::string::npos) continue;
      if (t.numel() != 1) throw Error(t.file + ": tensor '" + name + "' must hold one value, has shape " + shape_string(t.shape));
      float v;
      switch (t.dtype) {
        case DType::F32: v = t.as<float>()[0]; break;
        case DType::BF16: v = bf16_to_float(t.as<uint16_t>()[0]); break;
        case DType::F16: v = f16_to_float(t.as<uint16_t>()[0]); break;
        default: throw Error(t.file + ": tensor '" + name + "' must be F32, BF16 or F16");
      }
      if (!(std::isfinite(v) && v > 0.f)) throw Error(t.file + ": tensor '" + name + "' must be a positive number");
      found[name] = v;
    }
  }
  std::vector<float> scales;
  for (int64_t l = 0; l < n_layers; ++l) {
    auto it = found.find(ckv_scale_name(l));
    if (it == found.end()) throw Error(dir + ": no tensor '" + ckv_scale_name(l) + "' in its *.safetensors files");
    scales.push_back(it->second);
  }
  return scales;
}

}  // namespace dsinfer::convert
