#pragma once
// Writes one output shard on a background thread, so converting the next
// tensor overlaps writing the previous one. Tensors must be queued in the
// declared order. At most `budget_bytes` wait in the queue (a single larger
// tensor is let through alone), which bounds memory.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "convert/progress_meter.h"
#include "io/safetensors_writer.h"

namespace dsinfer::convert {

class ShardWriter {
 public:
  ShardWriter(const std::string& path, std::vector<TensorSpec> specs, size_t budget_bytes, ProgressMeter& progress);
  ~ShardWriter();
  ShardWriter(const ShardWriter&) = delete;
  ShardWriter& operator=(const ShardWriter&) = delete;

  // Next tensor's bytes, produced by a conversion. `input_done` input bytes
  // are credited to the progress meter once written.
  void write_owned(std::vector<uint8_t> bytes, size_t input_done);
  // Next tensor's bytes straight from the mapped input (a copy); its pages
  // are released after writing.
  void write_mapped(const uint8_t* data, size_t nbytes, size_t input_done);
  // Waits for the queue to drain and closes the file. Rethrows a write error.
  void finish();

 private:
  struct Item {
    std::vector<uint8_t> owned;
    const uint8_t* mapped = nullptr;
    size_t nbytes = 0;
    size_t input_done = 0;
  };
  void push(Item item);
  void run();
  void rethrow_if_failed_locked();

  SafetensorsWriter writer_;
  size_t budget_;
  ProgressMeter& progress_;
  std::deque<Item> queue_;
  size_t queued_bytes_ = 0;
  bool closing_ = false;
  std::exception_ptr error_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
};

}  // namespace dsinfer::convert
