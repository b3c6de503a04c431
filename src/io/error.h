#pragma once
// One error type for every user-facing failure. The message names the file,
// tensor, field or request at fault; the CLI turns it into exit code 2.
#include <stdexcept>
#include <string>

namespace dsinfer {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace dsinfer
