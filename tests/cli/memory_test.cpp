// Weights are memory-mapped and used in their stored format: what a run adds
// to the executable's own footprint (its libraries, measured by `--help`)
// stays under 2x the checkpoint size (no second or fp32 copy of the model).
#include <gtest/gtest.h>

#include <filesystem>

#include "support/test_support.h"

namespace dsinfer {
namespace {

size_t checkpoint_bytes(const std::string& dir) {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".safetensors") n += e.file_size();
  return n;
}

TEST(Memory, ResidentSetStaysUnderTwiceCheckpointAboveTheExecutable) {
  int help_rc = -1;
  const long baseline = test::peak_rss_of_dsinfer("--help", &help_rc);
  ASSERT_EQ(help_rc, 0);
  for (const char* name : {"deepseek-r1-tiny", "kimi-k2-tiny"}) {
    const std::string dir = test::data_path(name);
    const std::string out = test::make_temp_dir("rss") + "/g.json";
    int rc = -1;
    const long rss = test::peak_rss_of_dsinfer(
        "generate --model " + dir + " --ids 5,17,9,33,2,8,100 --max-new-tokens 64 --output-json " + out, &rc);
    ASSERT_EQ(rc, 0);
    const size_t ckpt = checkpoint_bytes(dir);
    const long added = rss - baseline;
    std::printf("[memory] %s: peak RSS %.1f MB (%.1f MB above the executable's), checkpoint %.1f MB (ratio %.2f)\n",
                name, rss / 1e6, added / 1e6, ckpt / 1e6, static_cast<double>(added) / static_cast<double>(ckpt));
    EXPECT_LT(static_cast<size_t>(added), 2 * ckpt) << name;
    std::filesystem::remove_all(std::filesystem::path(out).parent_path());
  }
}

}  // namespace
}  // namespace dsinfer
