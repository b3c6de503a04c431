#include "convert/staging_dir.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>
#include <system_error>
#include <thread>

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

std::mutex& active_mutex() {
  static std::mutex m;
  return m;
}
std::set<std::string>& active_dirs() {
  static std::set<std::string> dirs;
  return dirs;
}

// Staging directories of `out` left by conversions that no longer run: the
// owner's pid is part of the name (OUT.tmp-<pid>-XXXXXX), so a kill at any
// point leaves a directory a later run can judge.
void remove_stale_staging(const fs::path& parent, const std::string& out_name) {
  std::error_code ec;
  const std::string prefix = out_name + ".tmp-";
  for (const auto& e : fs::directory_iterator(parent, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) != 0 || !e.is_directory(ec)) continue;
    const std::string rest = name.substr(prefix.size());
    const size_t dash = rest.find('-');
    if (dash == std::string::npos || dash == 0 || rest.find_first_not_of("0123456789") != dash) continue;
    const long pid = std::strtol(rest.substr(0, dash).c_str(), nullptr, 10);
    if (pid <= 0 || ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM) continue;  // its owner still runs
    fs::remove_all(e.path(), ec);
  }
}

}  // namespace

void StagingDir::remove_on_stop_signals() {
  static std::once_flag once;
  std::call_once(once, [] {
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);
    std::thread([stop] {
      int sig = 0;
      sigwait(&stop, &sig);
      {
        std::lock_guard<std::mutex> lock(active_mutex());
        std::error_code ec;
        for (const auto& d : active_dirs()) fs::remove_all(d, ec);
      }
      std::_Exit(128 + sig);
    }).detach();
  });
}

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
  remove_stale_staging(parent, out.filename().string());
  temp_ = make_unique_dir(parent / (out.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-"));
  std::lock_guard<std::mutex> lock(active_mutex());
  active_dirs().insert(temp_);
}

StagingDir::~StagingDir() {
  std::lock_guard<std::mutex> lock(active_mutex());
  active_dirs().erase(temp_);
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
  std::lock_guard<std::mutex> lock(active_mutex());
  fs::rename(temp_, out, ec);
  if (ec) throw Error(final_ + ": cannot rename " + temp_ + " onto it: " + ec.message());
  committed_ = true;
  active_dirs().erase(temp_);
  if (!old.empty()) fs::remove_all(old, ec);
}

}  // namespace dsinfer::convert
