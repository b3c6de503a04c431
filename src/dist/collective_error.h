#pragma once
// Errors a parallel job agrees on: a step that can fail on some ranks only
// (opening the model, validating sizes) runs on every rank, and then every
// rank throws the same AgreedError, so rank 0 can print one message and all
// ranks exit 2 together instead of some of them waiting forever.
#include <functional>

#include "dist/communicator.h"
#include "io/error.h"

namespace dsinfer {

class AgreedError : public Error {
 public:
  using Error::Error;
};

// Runs fn here; if it threw on any rank, every rank throws AgreedError with
// the message of the lowest failing rank ("rank N: " in front when the group
// has more than one rank).
void agree_on_errors(Communicator& group, const std::function<void()>& fn);

}  // namespace dsinfer
