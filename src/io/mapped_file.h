#pragma once
// Read-only memory map of a whole file. Checkpoints are never read into
// heap memory: pages come in on demand and the OS can drop them again.
#include <cstddef>
#include <cstdint>
#include <string>

namespace dsinfer {

class MappedFile {
 public:
  MappedFile() = default;
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

  // Hands the whole pages of [p, p + n) back to the OS if the range lies in
  // a live MappedFile (clean read-only pages: a later read faults them in
  // from the page cache or the file again); false, nothing done, elsewhere
  // (anonymous memory would lose its contents). For weights a backend has
  // copied into its own layout, so the process holds one copy.
  static bool drop_resident_pages(const void* p, size_t n);

 private:
  void release();
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace dsinfer
