#include "convert/convert_checkpoint.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <thread>

#include "convert/ckv_calibration.h"
#include "runtime/load_model.h"
#include "runtime/prompt_encoder.h"
#include "convert/conversion_plan.h"
#include "convert/mapped_pages.h"
#include "convert/output_metadata.h"
#include "convert/progress_meter.h"
#include "convert/shard_writer.h"
#include "convert/staging_dir.h"
#include "convert/weight_arith.h"
#include "io/error.h"
#include "io/model_config.h"
#include "io/safetensors.h"
#include "io/safetensors_writer.h"

namespace dsinfer::convert {
namespace fs = std::filesystem;

namespace {

// Converted tensors waiting for the writer thread; with the tensor being
// converted and the input pages of one tensor, this bounds resident memory.
constexpr size_t kWriteQueueBytes = size_t{256} << 20;
constexpr const char* kCkvScaleFile = "ckv_scale.safetensors";

Fp8BlockWeight fp8_weight(const PlannedTensor& p, const QuantConfig& q) {
  return {p.input->data, reinterpret_cast<const float*>(p.scale_inv->data), p.input->shape[0], p.input->shape[1],
          q.block_rows, q.block_cols};
}

void release_inputs(const PlannedTensor& p) {
  release_mapped_pages(p.input->data, p.input->nbytes);
  if (p.scale_inv) release_mapped_pages(p.scale_inv->data, p.scale_inv->nbytes);
}

// Converts one shard into staging/<same name>; returns its output tensor bytes.
size_t convert_shard(const ShardPlan& shard, const QuantConfig& quant, const std::string& out_path, int threads,
                     ProgressMeter& progress, std::map<std::string, std::string>& weight_map) {
  std::vector<TensorSpec> specs;
  for (const auto& p : shard.tensors)
    for (const auto& s : p.outputs) specs.push_back(s);
  size_t out_bytes = 0;
  for (const auto& s : specs) {
    weight_map[s.name] = shard.file_name;
    out_bytes += s.nbytes();
  }
  ShardWriter writer(out_path, specs, kWriteQueueBytes, progress);
  for (const auto& p : shard.tensors) {
    switch (p.action) {
      case TensorAction::Copy:
        writer.write_mapped(p.input->data, p.input->nbytes, p.input_bytes());
        break;
      case TensorAction::DequantBf16: {
        std::vector<uint8_t> bf16(p.outputs[0].nbytes());
        fp8_to_bf16(fp8_weight(p, quant), reinterpret_cast<uint16_t*>(bf16.data()), threads);
        release_inputs(p);
        writer.write_owned(std::move(bf16), p.input_bytes());
        break;
      }
      case TensorAction::QuantInt8: {
        std::vector<uint8_t> q(p.outputs[0].nbytes()), scale(p.outputs[1].nbytes());
        fp8_to_int8_channel(fp8_weight(p, quant), reinterpret_cast<int8_t*>(q.data()),
                            reinterpret_cast<float*>(scale.data()), threads);
        release_inputs(p);
        writer.write_owned(std::move(q), 0);
        writer.write_owned(std::move(scale), p.input_bytes());
        break;
      }
    }
  }
  writer.finish();
  return out_bytes;
}

void write_ckv_scales(const std::string& path, const std::vector<float>& scales,
                      std::map<std::string, std::string>& weight_map, size_t& out_bytes) {
  std::vector<OwnedTensor> tensors;
  for (size_t l = 0; l < scales.size(); ++l) {
    OwnedTensor t;
    t.spec = {ckv_scale_name(static_cast<int64_t>(l)), DType::F32, {1}};
    t.bytes.resize(sizeof(float));
    std::memcpy(t.bytes.data(), &scales[l], sizeof(float));
    weight_map[t.spec.name] = fs::path(path).filename().string();
    out_bytes += t.bytes.size();
    tensors.push_back(std::move(t));
  }
  write_safetensors(path, tensors, {{"format", "pt"}});
}

}  // namespace

ConvertReport convert_checkpoint(const ConvertOptions& opt) {
  // Each thread holds a tensor's worth of buffers: a bound keeps a typo from
  // starting 100,000 threads (which crashed).
  constexpr int kMaxThreads = 1024;
  if (opt.threads < 0 || opt.threads > kMaxThreads)
    throw Error("--threads must be in [0, " + std::to_string(kMaxThreads) + "] (0: all cores), got " +
                std::to_string(opt.threads));
  const int threads = opt.threads > 0 ? opt.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const bool c8 = opt.mode == QuantMode::W8A8C8;
  const ModelConfig cfg = load_model_config(opt.input_dir);
  if (cfg.quant.weights != WeightQuant::Fp8Block)
    throw Error(cfg.path + ": not an FP8 release checkpoint (quantization_config.quant_method must be \"fp8\")");
  const Checkpoint input(opt.input_dir);
  const ConversionPlan plan = plan_conversion(input, cfg.quant, opt.mode);

  // Everything that can fail on bad arguments fails before any output exists.
  std::vector<float> given_scales;
  CalibrationSet calib;
  if (!c8 && (!opt.calib_data.empty() || opt.calib_percentile || !opt.quant_param_path.empty()))
    throw Error("--calib-data, --calib-percentile and --quant_param_path apply to --quant_mode w8a8c8 only");
  if (opt.calib_percentile && !(*opt.calib_percentile > 0.0 && *opt.calib_percentile <= 100.0))
    throw Error("--calib-percentile must be in (0, 100], got " + std::to_string(*opt.calib_percentile));
  if (c8) {
    // The MTP layer has a latent cache too: its scale follows the decoder layers'.
    const bool has_mtp = cfg.num_nextn_predict_layers > 0 &&
                         input.has("model.layers." + std::to_string(cfg.num_hidden_layers) + ".eh_proj.weight");
    const int64_t cache_layers = cfg.num_hidden_layers + (has_mtp ? 1 : 0);
    if (!opt.quant_param_path.empty()) given_scales = read_ckv_scales(opt.quant_param_path, cache_layers);
    else {
      // Real text through the model's own tokenizer when the input has one.
      std::unique_ptr<Tokenizer> tokenizer;
      if (has_tokenizer_files(opt.input_dir)) tokenizer = load_tokenizer(opt.input_dir);
      if (!opt.calib_data.empty()) calib = read_calibration_jsonl(opt.calib_data, cfg.vocab_size, tokenizer.get());
      else if (tokenizer) calib = builtin_text_calibration_set(*tokenizer, cfg.vocab_size);
      else calib = random_calibration_set(cfg.vocab_size);
    }
  }
  std::error_code ec;
  if (fs::exists(opt.output_dir, ec) && fs::equivalent(opt.input_dir, opt.output_dir, ec))
    throw Error(opt.output_dir + ": output directory is the input directory");
  {
    // OUT inside IN would add a directory to the input (and the staging directory beside it).
    const fs::path in = fs::weakly_canonical(opt.input_dir, ec), out = fs::weakly_canonical(opt.output_dir, ec);
    const auto [end, rest] = std::mismatch(in.begin(), in.end(), out.begin(), out.end());
    if (end == in.end())
      throw Error(opt.output_dir + ": --output_hf_path is inside the input directory " + opt.input_dir +
                  "; write the converted checkpoint elsewhere");
  }
  StagingDir::remove_on_stop_signals();

  StagingDir staging(opt.output_dir, opt.force);
  ProgressMeter progress(plan.input_bytes, opt.progress);
  progress.log(opt.input_dir + " -> " + staging.final_path() + " (" + quant_mode_name(opt.mode) + ", " +
               std::to_string(plan.shards.size()) + " shards, " + std::to_string(threads) + " threads)");

  ConvertReport report;
  report.input_bytes = plan.input_bytes;
  std::map<std::string, std::string> weight_map;
  for (size_t i = 0; i < plan.shards.size(); ++i) {
    const ShardPlan& shard = plan.shards[i];
    report.output_bytes += convert_shard(shard, cfg.quant, (fs::path(staging.path()) / shard.file_name).string(),
                                         threads, progress, weight_map);
    progress.log("shard " + std::to_string(i + 1) + "/" + std::to_string(plan.shards.size()) + " " + shard.file_name +
                 " written");
  }
  report.mb_per_s = progress.finish();
  copy_side_files(opt.input_dir, staging.path());
  write_index(staging.path(), weight_map, report.output_bytes);
  // A C8 output is first a complete W8A8C16 checkpoint: calibration runs it.
  write_output_config(opt.input_dir, staging.path(), opt.mode, plan.ignored_modules, false);

  if (c8) {
    if (given_scales.empty()) {
      progress.log("calibrating ckv_scale on " + calib.source);
      const auto model = load_model(staging.path());
      report.ckv_scales = calibrate_ckv_scales(*model, calib, opt.calib_percentile);
    } else {
      progress.log("ckv_scale taken from " + opt.quant_param_path);
      report.ckv_scales = given_scales;
    }
    write_ckv_scales((fs::path(staging.path()) / kCkvScaleFile).string(), report.ckv_scales, weight_map,
                     report.output_bytes);
    write_index(staging.path(), weight_map, report.output_bytes);
    write_output_config(opt.input_dir, staging.path(), opt.mode, plan.ignored_modules, true);
  }
  staging.commit();
  report.seconds = progress.seconds();
  return report;
}

}  // namespace dsinfer::convert
