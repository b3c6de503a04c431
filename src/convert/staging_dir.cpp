#include "convert/staging_dir.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "io/error.h"

namespace dsinfer::convert {
namespace fs = std::filesystem;

namespace {

std::string make_unique_dir(const fs::path& templ_prefix) {
  std::string templ = templ_prefix.string() + "XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr)
    throw Error(templ_prefix.parent_path().string() + ": cannot create a temporary output directory: " +
                std::strerror(errno));
  // mkdtemp makes it 0700; the finished checkpoint gets the usual umask-based mode.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  ::chmod(templ.c_str(), 0777 & ~mask);
  return templ;
}

}  // namespace

StagingDir::StagingDir(const std::string& final_dir, bool replace_existing) {
  fs::path out = fs::path(final_dir).lexically_normal();
  if (!out.has_filename()) out = out.parent_path();  // "OUT/" -> "OUT"
  if (out.empty()) throw Error("--output_hf_path: empty path");
  final_ = out.string();
  std::error_code ec;
  const auto st = fs::status(out, ec);
  if (fs::exists(st)) {
    if (!fs::is_directory(st)) throw Error(final_ + ": output path exists and is not a directory");
    if (!fs::is_empty(out, ec) && !replace_existing)
      throw Error(final_ + ": output directory is not empty (use --force to replace it)");
  }
  const fs::path parent = out.has_parent_path() ? out.parent_path() : fs::path(".");
  fs::create_directories(parent, ec);
  if (ec) throw Error(parent.string() + ": cannot create output parent directory: " + ec.message());
  temp_ = make_unique_dir(parent / (out.filename().string() + ".tmp-"));
}

StagingDir::~StagingDir() {
  if (committed_) return;
  std::error_code ec;
  fs::remove_all(temp_, ec);  // best effort; its name already says it is unfinished
}

void StagingDir::commit() {
  const fs::path out(final_);
  std::error_code ec;
  std::string old;
  if (fs::exists(out, ec) && !fs::is_empty(out, ec)) {
    // Move the previous content aside first so the swap is two renames.
    old = make_unique_dir(out.string() + ".old-");
    fs::rename(out, old, ec);
    if (ec) throw Error(final_ + ": cannot move the existing output aside: " + ec.message());
  }
  // rename(2) replaces an empty directory atomically.
  fs::rename(temp_, out, ec);
  if (ec) throw Error(final_ + ": cannot rename " + temp_ + " onto it: " + ec.message());
  committed_ = true;
  if (!old.empty()) fs::remove_all(old, ec);
}

}  // namespace dsinfer::convert
