#include "dist/collective_error.h"

#include <string>
#include <vector>

namespace dsinfer {

void agree_on_errors(Communicator& group, const std::function<void()>& fn) {
  std::string message;
  bool failed = false;
  try {
    fn();
  } catch (const AgreedError&) {
    throw;  // every rank threw it already
  } catch (const std::exception& e) {
    message = e.what();
    failed = true;
  }
  if (group.size() == 1) {
    if (failed) throw AgreedError(message);
    return;
  }
  // A failure with an empty message still counts: lengths are message + 1.
  const int64_t mine = failed ? static_cast<int64_t>(message.size()) + 1 : 0;
  std::vector<int64_t> lengths(static_cast<size_t>(group.size()));
  group.all_gather(&mine, sizeof mine, lengths.data());
  int first = -1;
  for (int r = 0; r < group.size() && first < 0; ++r)
    if (lengths[static_cast<size_t>(r)] > 0) first = r;
  if (first < 0) return;
  std::string text(static_cast<size_t>(lengths[static_cast<size_t>(first)]), '\0');
  if (group.rank() == first) text = message + '\0';
  group.broadcast(text.data(), static_cast<int64_t>(text.size()), first);
  text.pop_back();
  throw AgreedError("rank " + std::to_string(first) + ": " + text);
}

}  // namespace dsinfer
