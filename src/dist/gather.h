#pragma once
// Variable-length gathers of plain values, for collecting results and
// statistics (every rank gets every rank's values, in rank order).
#include <cstring>
#include <span>
#include <type_traits>
#include <vector>

#include "dist/communicator.h"

namespace dsinfer {

template <class T>
std::vector<T> all_gather_values(Communicator& g, std::span<const T> mine, std::vector<int64_t>* counts = nullptr) {
  static_assert(std::is_trivially_copyable_v<T>);
  const auto n = static_cast<int64_t>(mine.size());
  std::vector<int64_t> sizes(static_cast<size_t>(g.size()));
  g.all_gather(&n, sizeof n, sizes.data());
  int64_t total = 0;
  std::vector<int64_t> bytes;
  for (int64_t s : sizes) {
    total += s;
    bytes.push_back(s * static_cast<int64_t>(sizeof(T)));
  }
  std::vector<T> all(static_cast<size_t>(total));
  g.all_gather_v(mine.data(), n * static_cast<int64_t>(sizeof(T)), all.data(), bytes);
  if (counts) *counts = sizes;
  return all;
}

template <class T>
std::vector<T> all_gather_one(Communicator& g, const T& mine) {
  return all_gather_values<T>(g, std::span<const T>(&mine, 1));
}

}  // namespace dsinfer
