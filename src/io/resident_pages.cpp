#include "io/resident_pages.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

namespace dsinfer {

uint64_t resident_bytes(const void* p, size_t n) {
  if (!p || n == 0) return 0;
  const auto page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  const auto begin = reinterpret_cast<uint64_t>(p) / page, end = (reinterpret_cast<uint64_t>(p) + n + page - 1) / page;
  const int fd = ::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  uint64_t present = 0;
  std::vector<uint64_t> entries(4096);
  for (uint64_t at = begin; at < end;) {
    const uint64_t count = std::min<uint64_t>(entries.size(), end - at);
    const ssize_t got = ::pread(fd, entries.data(), count * 8, static_cast<off_t>(at * 8));
    if (got <= 0) break;
    for (ssize_t i = 0; i < got / 8; ++i) present += (entries[static_cast<size_t>(i)] >> 63) & 1;  // bit 63: present
    at += static_cast<uint64_t>(got / 8);
  }
  ::close(fd);
  return present * page;
}

}  // namespace dsinfer
