#include "io/output_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "io/error.h"

namespace dsinfer {
namespace fs = std::filesystem;

std::vector<std::string> model_input_files(const std::string& model_dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(model_dir, ec))
    if (e.is_regular_file(ec)) files.push_back(e.path().string());
  return files;
}

namespace {

// Every write and the close checked: /dev/full fails here, not silently.
void write_in_place(const std::string& path, std::string_view bytes, const std::string& label) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) throw Error(label + ": cannot open for writing: " + std::strerror(errno));
  for (size_t at = 0; at < bytes.size();) {
    const ssize_t n = ::write(fd, bytes.data() + at, bytes.size() - at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int e = errno;
      ::close(fd);
      throw Error(label + ": write failed: " + std::strerror(e));
    }
    at += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) throw Error(label + ": write failed at close: " + std::strerror(errno));
}

}  // namespace

void write_output_file(const std::string& path, std::string_view bytes, const std::string& what,
                       const std::vector<std::string>& inputs) {
  const std::string label = what + " " + path;
  std::error_code ec;
  fs::path target = path;
  if (fs::exists(fs::symlink_status(path, ec))) {
    const fs::file_status st = fs::status(path, ec);  // through symlinks
    if (ec || fs::is_directory(st)) throw Error(label + ": is a directory (or a dangling link); give a file path");
    if (!fs::is_regular_file(st)) {
      write_in_place(path, bytes, label);  // a device or FIFO: written, never replaced
      return;
    }
    target = fs::canonical(path, ec);
    if (ec) throw Error(label + ": cannot resolve: " + ec.message());
    for (const auto& in : inputs)
      if (fs::equivalent(target, in, ec))
        throw Error(label + ": is one of the inputs (" + in + "); refusing to overwrite it");
  }
  const std::string tmp = target.string() + ".tmp-" + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(label + ": cannot create " + tmp + ": " + std::strerror(errno));
  auto fail = [&](const char* step) {
    const int e = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    throw Error(label + ": " + step + " failed: " + std::strerror(e));
  };
  for (size_t at = 0; at < bytes.size();) {
    const ssize_t n = ::write(fd, bytes.data() + at, bytes.size() - at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("write");
    at += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 && errno != EINVAL) fail("fsync");
  if (::close(fd) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    throw Error(label + ": close failed: " + std::strerror(e));
  }
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    throw Error(label + ": cannot replace: " + std::strerror(e));
  }
}

}  // namespace dsinfer
