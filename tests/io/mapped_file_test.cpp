// MappedFile::drop_resident_pages: a mapped file's pages leave the process
// and read back the same; memory that is not a live mapping (which would
// lose its contents) is left alone.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "io/mapped_file.h"
#include "io/resident_pages.h"
#include "support/test_support.h"

namespace dsinfer {
namespace {

TEST(MappedFile, DroppedPagesLeaveTheProcessAndReadBackTheSame) {
  const std::string dir = test::make_temp_dir("mapped");
  const std::string path = dir + "/data.bin";
  std::vector<uint8_t> bytes(1 << 20);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 131 + 7);
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  MappedFile f(path);
  uint64_t sum = 0;
  for (size_t i = 0; i < f.size(); i += 512) sum += f.data()[i];
  EXPECT_GT(sum, 0u);
  const uint64_t before = resident_bytes(f.data(), f.size());
  if (before == 0) GTEST_SKIP() << "/proc/self/pagemap unreadable here";
  EXPECT_TRUE(MappedFile::drop_resident_pages(f.data(), f.size()));
  EXPECT_LT(resident_bytes(f.data(), f.size()), before / 4);
  for (size_t i = 0; i < f.size(); ++i) ASSERT_EQ(f.data()[i], bytes[i]) << i;
  std::filesystem::remove_all(dir);
}

TEST(MappedFile, MemoryOutsideAMappingIsLeftAlone) {
  std::vector<uint8_t> heap(1 << 20, 0x5A);
  EXPECT_FALSE(MappedFile::drop_resident_pages(heap.data(), heap.size()));
  for (uint8_t b : heap) ASSERT_EQ(b, 0x5A);
}

}  // namespace
}  // namespace dsinfer
