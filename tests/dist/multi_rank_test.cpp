// Multi-rank runs under a real `mpirun` (OpenMPI, TCP transport so the
// network path is exercised) against the single-process run of the same
// command: prompt logits within 1e-4 at every position, identical greedy ids
// and offline-run outputs, and the bad-input cases (exit 2, one message from
// rank 0, no hang when a rank dies).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/test_support.h"

namespace dsinfer {
namespace {

namespace fs = std::filesystem;

// Containers run tests as root: OpenMPI's run-as-root variables are set for
// these commands only, not in anyone's defaults.
std::string mpirun(int np, const std::string& args) {
  return "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_tcp_if_include=lo "
         "timeout 120 mpirun --oversubscribe --bind-to none --mca btl tcp,self -x OMP_NUM_THREADS=1 "
         "-x OMP_WAIT_POLICY=PASSIVE -np " +
         std::to_string(np) + " " + test::dsinfer_binary() + " " + args;
}

std::vector<float> read_npy(const std::string& path, std::vector<int64_t>* shape = nullptr) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string b = ss.str();
  if (b.size() < 10) return {};
  const size_t hlen = static_cast<uint8_t>(b[8]) | (static_cast<uint8_t>(b[9]) << 8);
  if (shape) {
    const std::string h = b.substr(10, hlen);
    const auto open = h.find('('), close = h.find(')');
    shape->clear();
    std::stringstream dims(h.substr(open + 1, close - open - 1));
    std::string d;
    while (std::getline(dims, d, ','))
      if (d.find_first_of("0123456789") != std::string::npos) shape->push_back(std::stoll(d));
  }
  std::vector<float> v((b.size() - 10 - hlen) / 4);
  std::memcpy(v.data(), b.data() + 10 + hlen, v.size() * 4);
  return v;
}

const char* kIds = "1,5,77,300,1024,9,42,17,600,1000,3,8,250,12,700,33";

struct Layout {
  int np;
  std::string flags;
  std::string name;
};

void PrintTo(const Layout& l, std::ostream* os) { *os << "np " << l.np << " " << l.name; }

class LogitsAcrossRanks : public ::testing::TestWithParam<std::tuple<std::string, Layout, bool>> {};

TEST_P(LogitsAcrossRanks, MatchSingleProcessAtEveryPosition) {
  const auto& [model, layout, mtp] = GetParam();
  const std::string dir = test::make_temp_dir("mpi-logits");
  const std::string m = test::data_path(model), extra = mtp ? " --mtp" : "";
  const auto one = test::run_dsinfer("logits --no-pin --model " + m + " --ids " + kIds + extra + " --out " + dir + "/1.npy");
  ASSERT_EQ(one.exit_code, 0) << one.output;
  const auto many = test::run_shell(mpirun(layout.np, "logits --no-pin --model " + m + " --ids " + kIds + extra +
                                                          " " + layout.flags + " --out " + dir + "/n.npy"));
  ASSERT_EQ(many.exit_code, 0) << many.output;
  std::vector<int64_t> s1, sn;
  const auto a = read_npy(dir + "/1.npy", &s1), b = read_npy(dir + "/n.npy", &sn);
  ASSERT_EQ(s1, sn);
  ASSERT_EQ(a.size(), b.size());
  ASSERT_FALSE(a.empty());
  float worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(a[i] - b[i]));
  EXPECT_LE(worst, 1e-4) << layout.name;
  fs::remove_all(dir);
}

const Layout kLayouts[] = {
    {2, "", "DP2+EP2"},
    {2, "--attn-tp-size 2 --moe-tp-size 2 --dense-tp-size 2", "TP2"},
    {4, "--attn-tp-size 2", "DP2+TP2+EP4"},
    {4, "--embed-tp-size 4 --lmhead-tp-size 4", "DP4+EP4, embed/lm_head TP4"},
    {4, "--attn-tp-size 4 --moe-tp-size 4 --dense-tp-size 4 --embed-tp-size 4 --lmhead-tp-size 4", "TP4"},
    {4, "--attn-tp-size 2 --dense-tp-size 4 --embed-tp-size 4", "DP2+TP2, dense/embed TP4 across DP groups"},
};

std::string layout_name(const ::testing::TestParamInfo<LogitsAcrossRanks::ParamType>& info) {
  std::string n = std::get<0>(info.param) + "_np" + std::to_string(std::get<1>(info.param).np) + "_" +
                  std::to_string(info.index) + (std::get<2>(info.param) ? "_mtp" : "");
  for (char& c : n)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(TinyModels, LogitsAcrossRanks,
                         ::testing::Combine(::testing::Values("deepseek-r1-tiny", "kimi-k2-tiny"),
                                            ::testing::ValuesIn(kLayouts), ::testing::Values(false)),
                         layout_name);
// EP with the MTP layer on (R1-tiny has one).
INSTANTIATE_TEST_SUITE_P(MtpLayer, LogitsAcrossRanks,
                         ::testing::Combine(::testing::Values("deepseek-r1-tiny"),
                                            ::testing::Values(Layout{2, "", "DP2+EP2"},
                                                              Layout{4, "--attn-tp-size 2 --lmhead-tp-size 2",
                                                                     "DP2+TP2+EP4, lm_head TP2"}),
                                            ::testing::Values(true)),
                         layout_name);

nlohmann::json generated(const test::CommandResult& r) {
  const auto at = r.output.find("{\"generated_ids\"");
  if (at == std::string::npos) return {};
  return nlohmann::json::parse(r.output.substr(at, r.output.find('\n', at) - at));
}

// Greedy ids: identical to the single process (EP with MTP drafts too).
TEST(GenerateAcrossRanks, GreedyIdsMatchSingleProcess) {
  for (const char* model : {"deepseek-r1-tiny", "kimi-k2-tiny"}) {
    const std::string m = test::data_path(model);
    const std::string args = "generate --no-pin --model " + m + " --ids 1,5,77,300 --max-new-tokens 12";
    const auto one = test::run_dsinfer(args);
    ASSERT_EQ(one.exit_code, 0) << one.output;
    const auto want = generated(one)["generated_ids"];
    ASSERT_EQ(want.size(), 12u);
    for (const std::string flags : {"", "--attn-tp-size 2 --lmhead-tp-size 4"}) {
      const auto many = test::run_shell(mpirun(4, args + " " + flags));
      ASSERT_EQ(many.exit_code, 0) << many.output;
      EXPECT_EQ(generated(many)["generated_ids"], want) << model << " " << flags;
    }
    if (std::string(model) == "deepseek-r1-tiny") {
      const auto spec = test::run_shell(mpirun(2, args + " --speculative-tokens 2"));
      ASSERT_EQ(spec.exit_code, 0) << spec.output;
      EXPECT_EQ(generated(spec)["generated_ids"], want);
    }
  }
}

// A run YAML scaled to the ranks at hand.
std::string write_yaml(const std::string& dir, const std::string& name, const std::string& model, int world,
                       const std::string& parallel, const std::string& model_extra) {
  const std::string path = dir + "/" + name + ".yaml";
  std::ofstream f(path);
  f << "model_name: deepseek_r1\nmodel_path: \"" << model << "\"\nexe_mode: eager\nworld_size: " << world
    << "\nmodel_config:\n  enable_pa: True\n  pa_block_size: 16\n  with_ckpt: True\n" << model_extra
    << "data_config:\n  dataset: default\n  input_max_len: 48\n  max_new_tokens: 6\n  batch_size: 4\n"
    << "parallel_config:\n" << parallel;
  return path;
}

std::vector<std::vector<int>> run_outputs(const std::string& json_path) {
  std::ifstream f(json_path);
  std::vector<std::vector<int>> out;
  if (!f) return out;
  const auto j = nlohmann::json::parse(f);
  for (const auto& o : j["outputs"]) out.push_back(o["ids"].get<std::vector<int>>());
  return out;
}

void expect_same_run(const std::string& model, const std::string& model_extra, const std::string& tag) {
  const std::string dir = test::make_temp_dir("mpi-run");
  const std::string single = write_yaml(dir, "one", model, 1, "  attn_tp_size: 1\n", model_extra);
  const auto one = test::run_dsinfer("run --quiet --no-pin --config " + single + " --output " + dir + "/one.json");
  ASSERT_EQ(one.exit_code, 0) << one.output;
  const auto want = run_outputs(dir + "/one.json");
  ASSERT_EQ(want.size(), 4u);
  const std::string par = write_yaml(dir, "four", model, 4,
                                     "  attn_tp_size: 2\n  moe_tp_size: 1\n  embed_tp_size: 2\n  lmhead_tp_size: 2\n",
                                     model_extra);
  const auto many = test::run_shell(mpirun(4, "run --quiet --no-pin --config " + par + " --output " + dir + "/four.json"));
  ASSERT_EQ(many.exit_code, 0) << many.output;
  EXPECT_EQ(run_outputs(dir + "/four.json"), want) << tag;
  // Rank 0 alone reports: one report, every rank's statistics in it.
  std::ifstream f(dir + "/four.json");
  const auto j = nlohmann::json::parse(f);
  ASSERT_EQ(j["parallel"]["ranks"].size(), 4u);
  EXPECT_EQ(j["parallel"]["moe_ep_size"], 4);
  EXPECT_GT(j["parallel"]["ranks"][1]["bytes_sent"]["dispatch"].get<int64_t>(), 0);
  EXPECT_GT(j["parallel"]["ranks"][1]["bytes_sent"]["all_reduce"].get<int64_t>(), 0);
  size_t reports = 0;
  for (size_t at = 0; (at = many.output.find("=== dsinfer run", at)) != std::string::npos; ++at) ++reports;
  EXPECT_EQ(reports, 1u);
  fs::remove_all(dir);
}

TEST(RunAcrossRanks, OutputsMatchWithAndWithoutMultiCycleAndChunks) {
  const std::string m = test::data_path("deepseek-r1-tiny");
  expect_same_run(m, "", "plain");
  expect_same_run(m, "  enable_prefill_multi_cycle: True\n  moe_chunk_max_len: 8\n", "multi-cycle + moe chunks");
  expect_same_run(m, "  next_n: 1\n", "MTP next_n 1");
}

TEST(RunAcrossRanks, ConvertedW8a8c8UnderEp4) {
  const std::string dir = test::make_temp_dir("mpi-c8");
  const auto conv = test::run_dsinfer("convert --input_fp8_hf_path " + test::data_path("deepseek-r1-tiny") +
                                      " --output_hf_path " + dir + "/c8 --quant_mode w8a8c8");
  ASSERT_EQ(conv.exit_code, 0) << conv.output;
  const std::string one = write_yaml(dir, "one", dir + "/c8", 1, "  attn_tp_size: 1\n", "  enable_mla_prolog: True\n");
  const std::string four = write_yaml(dir, "four", dir + "/c8", 4, "  attn_tp_size: 1\n", "  enable_mla_prolog: True\n");
  const auto a = test::run_dsinfer("run --quiet --no-pin --config " + one + " --output " + dir + "/1.json");
  ASSERT_EQ(a.exit_code, 0) << a.output;
  const auto b = test::run_shell(mpirun(4, "run --quiet --no-pin --config " + four + " --output " + dir + "/4.json"));
  ASSERT_EQ(b.exit_code, 0) << b.output;
  EXPECT_EQ(run_outputs(dir + "/4.json"), run_outputs(dir + "/1.json"));
  fs::remove_all(dir);
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = 0; (at = text.find(what, at)) != std::string::npos; at += what.size()) ++n;
  return n;
}

void expect_one_error(const test::CommandResult& r, const std::string& needle) {
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_EQ(count(r.output, "dsinfer: error:"), 1u) << r.output;
  EXPECT_NE(r.output.find(needle), std::string::npos) << r.output;
}

TEST(BadInputAcrossRanks, EveryRankExits2WithOneMessage) {
  const std::string dir = test::make_temp_dir("mpi-bad");
  const std::string m = test::data_path("deepseek-r1-tiny");
  const std::string yaml = write_yaml(dir, "w4", m, 4, "  attn_tp_size: 1\n", "");
  expect_one_error(test::run_shell(mpirun(2, "run --quiet --no-pin --config " + yaml)),
                   "world_size 4 differs from the number of MPI ranks 2");
  expect_one_error(test::run_shell(mpirun(4, "logits --no-pin --model " + m + " --ids 1,2 --out " + dir +
                                                 "/x.npy --attn-tp-size 3")),
                   "--attn-tp-size: 3 does not divide the world size 4");
  // R1-tiny has 16 experts; kimi-k2-tiny 24 over 16 ranks would leave some with none.
  expect_one_error(test::run_shell(mpirun(3, "logits --no-pin --model " + m + " --ids 1,2 --out " + dir + "/x.npy")),
                   "n_routed_experts 16 is not divisible by moe_ep_size 3");
  expect_one_error(test::run_shell(mpirun(2, "logits --no-pin --model " + dir + "/missing --ids 1,2 --out " + dir +
                                                 "/x.npy")),
                   "missing");
  EXPECT_FALSE(fs::exists(dir + "/x.npy"));
  fs::remove_all(dir);
}

// More EP ranks than experts: a random-weight model of R1-tiny's config with
// 2 experts (with_ckpt: False; rank 0 generates it while the others wait).
TEST(BadInputAcrossRanks, MoreExpertParallelRanksThanExperts) {
  const std::string dir = test::make_temp_dir("mpi-experts");
  std::ifstream in(test::data_path("deepseek-r1-tiny") + "/config.json");
  auto cfg = nlohmann::json::parse(in);
  cfg["n_routed_experts"] = 2;
  cfg["num_experts_per_tok"] = 1;
  cfg["n_group"] = 1;
  cfg["topk_group"] = 1;
  fs::create_directory(dir + "/two-experts");
  std::ofstream(dir + "/two-experts/config.json") << cfg.dump(2);
  const std::string yaml = write_yaml(dir, "ep4", dir + "/two-experts", 4, "  attn_tp_size: 1\n", "");
  std::string text;
  {
    std::ifstream f(yaml);
    std::stringstream ss;
    ss << f.rdbuf();
    text = ss.str();
  }
  const auto at = text.find("with_ckpt: True");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 15, "with_ckpt: False");
  std::ofstream(yaml) << text;
  const auto r = test::run_shell("DSINFER_CACHE_DIR=" + dir + "/cache " +
                                 mpirun(4, "run --quiet --no-pin --config " + yaml));
  expect_one_error(r, "moe_ep_size 4 is more than n_routed_experts 2");
  fs::remove_all(dir);
}

// The collectives benchmark: every batch measured, sizes as R1 decode's.
TEST(BenchComm, MeasuresDispatchAndAllReduceAtR1Sizes) {
  const std::string dir = test::make_temp_dir("bench-comm");
  const auto r = test::run_shell(mpirun(2, "bench-comm --batches 1,4 --iterations 3 --output " + dir + "/c.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::ifstream f(dir + "/c.json");
  const auto j = nlohmann::json::parse(f);
  ASSERT_EQ(j["ranks"], 2);
  ASSERT_EQ(j["rows"].size(), 2u);
  // batch x top-8 rows of 7168 bf16 values, half of them for the other rank.
  EXPECT_EQ(j["rows"][0]["dispatch_bytes_per_rank"], 1 * 8 * 7168 * 2 / 2);
  EXPECT_EQ(j["rows"][1]["dispatch_bytes_per_rank"], 4 * 8 * 7168 * 2 / 2);
  EXPECT_EQ(j["rows"][1]["all_reduce_bytes"], 4 * 7168 * 4);
  for (const auto& row : j["rows"]) {
    EXPECT_GT(row["dispatch_combine_us"].get<double>(), 0);
    EXPECT_GT(row["all_reduce_gb_per_s"].get<double>(), 0);
  }
  fs::remove_all(dir);
}

// A rank that cannot open the model (MPMD: rank 1 is given another path).
TEST(BadInputAcrossRanks, OneRankCannotOpenTheModel) {
  const std::string dir = test::make_temp_dir("mpi-open");
  const std::string m = test::data_path("deepseek-r1-tiny");
  const std::string common = " logits --no-pin --ids 1,2 --out " + dir + "/x.npy --model ";
  const std::string cmd = mpirun(1, common + m) + " : -np 1 " + test::dsinfer_binary() + common + dir + "/nowhere";
  const auto r = test::run_shell(cmd);
  expect_one_error(r, "rank 1: ");
  EXPECT_NE(r.output.find("nowhere"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir + "/x.npy"));
  fs::remove_all(dir);
}

// Killing one rank mid-run ends the job within seconds.
TEST(BadInputAcrossRanks, KilledRankEndsTheJob) {
  const std::string dir = test::make_temp_dir("mpi-kill");
  const std::string marker = dir + "/marker-model";
  fs::create_directory_symlink(test::data_path("deepseek-r1-tiny"), marker);
  const std::string cmd = mpirun(2, "generate --no-pin --model " + marker + " --ids 1,2,3 --max-new-tokens 30000") +
                          " > " + dir + "/out.txt 2>&1; echo $? > " + dir + "/rc";
  std::thread job([&] { std::system(cmd.c_str()); });
  // Wait for both ranks to be decoding, then kill one.
  std::this_thread::sleep_for(std::chrono::seconds(5));
  const auto pids = test::run_shell("pgrep -f 'marker-model --ids 1,2,3' | head -n 40");
  std::vector<int> ranks;
  std::stringstream ss(pids.output);
  for (int pid; ss >> pid;) {
    std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
    std::string name;
    comm >> name;
    if (name == "dsinfer") ranks.push_back(pid);
  }
  ASSERT_GE(ranks.size(), 2u) << pids.output;
  const auto t0 = std::chrono::steady_clock::now();
  ::kill(ranks.back(), SIGKILL);
  job.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(seconds, 10.0);
  std::ifstream rc(dir + "/rc");
  int code = 0;
  rc >> code;
  EXPECT_NE(code, 0);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace dsinfer
