// Safetensors writing and reading round trip, including tensors streamed in
// pieces, and the writer's checks on declared sizes.
#include <gtest/gtest.h>

#include <filesystem>
#include <numeric>

#include "io/error.h"
#include "io/safetensors.h"
#include "io/safetensors_writer.h"
#include "support/test_support.h"

namespace dsinfer {
namespace {

TEST(SafetensorsIo, RoundTripWithPiecewiseTensor) {
  const std::string dir = test::make_temp_dir("st");
  const std::string path = dir + "/a.safetensors";
  std::vector<float> big(1000);
  std::iota(big.begin(), big.end(), 0.f);
  std::vector<uint16_t> small{1, 2, 3};
  {
    SafetensorsWriter w(path, {{"big", DType::F32, {10, 100}}, {"small", DType::BF16, {3}}, {"empty", DType::I8, {0}}},
                        {{"format", "pt"}});
    const auto* bytes = reinterpret_cast<const uint8_t*>(big.data());
    w.write_part(bytes, 1000);
    w.write_part(bytes + 1000, 3000);
    w.write_next(small.data(), 6);
    w.write_next(nullptr, 0);
    w.finish();
  }
  SafetensorsFile f(path);
  ASSERT_EQ(f.tensors().size(), 3u);
  const auto& b = f.tensors().at("big");
  EXPECT_EQ(b.shape, (std::vector<int64_t>{10, 100}));
  EXPECT_EQ(b.as<float>()[999], 999.f);
  EXPECT_EQ(f.tensors().at("small").as<uint16_t>()[2], 3);
  EXPECT_EQ(f.metadata().at("format"), "pt");
  std::filesystem::remove_all(dir);
}

TEST(SafetensorsIo, WriterRejectsWrongSizesAndMissingTensors) {
  const std::string dir = test::make_temp_dir("st");
  std::vector<uint8_t> buf(16);
  {
    SafetensorsWriter w(dir + "/b.safetensors", {{"t", DType::F32, {2}}});
    EXPECT_THROW(w.write_next(buf.data(), 4), Error);   // declared 8 bytes
    EXPECT_THROW(w.write_part(buf.data(), 12), Error);  // more than declared
    EXPECT_THROW(w.finish(), Error);                    // nothing complete yet
  }
  {
    SafetensorsWriter w(dir + "/c.safetensors", {{"t", DType::F32, {2}}});
    w.write_next(buf.data(), 8);
    EXPECT_THROW(w.write_next(buf.data(), 8), Error);  // more tensors than declared
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dsinfer
