#include "convert/shard_writer.h"

#include <algorithm>

#include "convert/mapped_pages.h"

namespace dsinfer::convert {

ShardWriter::ShardWriter(const std::string& path, std::vector<TensorSpec> specs, size_t budget_bytes,
                         ProgressMeter& progress)
    : writer_(path, std::move(specs)), budget_(budget_bytes), progress_(progress), thread_([this] { run(); }) {}

ShardWriter::~ShardWriter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closing_ = true;
    queue_.clear();  // abandoned (an error elsewhere): the staging dir is removed anyway
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ShardWriter::rethrow_if_failed_locked() {
  if (error_) std::rethrow_exception(error_);
}

void ShardWriter::push(Item item) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return error_ || queue_.empty() || queued_bytes_ + item.nbytes <= budget_; });
  rethrow_if_failed_locked();
  queued_bytes_ += item.nbytes;
  queue_.push_back(std::move(item));
  cv_.notify_all();
}

void ShardWriter::write_owned(std::vector<uint8_t> bytes, size_t input_done) {
  Item item;
  item.nbytes = bytes.size();
  item.owned = std::move(bytes);
  item.input_done = input_done;
  push(std::move(item));
}

void ShardWriter::write_mapped(const uint8_t* data, size_t nbytes, size_t input_done) {
  Item item;
  item.mapped = data;
  item.nbytes = nbytes;
  item.input_done = input_done;
  push(std::move(item));
}

void ShardWriter::run() {
  for (;;) {
    Item item;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return closing_ || !queue_.empty(); });
      if (queue_.empty()) return;  // closing and drained
      item = std::move(queue_.front());
      queue_.pop_front();
    }
    try {
      if (item.mapped) {
        // Copy in pieces, dropping each piece's input pages right after, so a
        // multi-GB tensor (Kimi-K2's embeddings) is never resident at once.
        constexpr size_t kPiece = 64u << 20;
        for (size_t off = 0; off < item.nbytes; off += kPiece) {
          const size_t n = std::min(kPiece, item.nbytes - off);
          writer_.write_part(item.mapped + off, n);
          release_mapped_pages(item.mapped + off, n);
        }
        if (item.nbytes == 0) writer_.write_next(item.mapped, 0);
      } else {
        writer_.write_next(item.owned.data(), item.nbytes);
      }
      progress_.advance(item.input_done);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu_);
      error_ = std::current_exception();
      queue_.clear();
      queued_bytes_ = 0;
      cv_.notify_all();
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      queued_bytes_ -= item.nbytes;
    }
    cv_.notify_all();
  }
}

void ShardWriter::finish() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closing_ = true;
  }
  cv_.notify_all();
  thread_.join();
  rethrow_if_failed_locked();
  writer_.finish();
}

}  // namespace dsinfer::convert
