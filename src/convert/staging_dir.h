#pragma once
// The output checkpoint is built in OUT.tmp-XXXXXX next to OUT and renamed
// onto OUT only once complete, so a failed or interrupted run never leaves
// a directory named OUT that looks like a finished checkpoint. Each staging
// directory's name holds its owner's pid (OUT.tmp-<pid>-XXXXXX); a later run
// removes those whose owner is gone (a conversion killed with SIGKILL).
#include <string>

namespace dsinfer::convert {

class StagingDir {
 public:
  // Refuses a non-empty `final_dir` unless `replace_existing`; creates the
  // parent directories and the temporary directory. Throws Error.
  StagingDir(const std::string& final_dir, bool replace_existing);
  ~StagingDir();  // removes the temporary directory unless committed
  StagingDir(const StagingDir&) = delete;
  StagingDir& operator=(const StagingDir&) = delete;

  const std::string& path() const { return temp_; }
  const std::string& final_path() const { return final_; }
  // Moves the finished directory onto final_dir (replacing what was there).
  void commit();

  // SIGINT / SIGTERM remove every staging directory still open and end the
  // process (128 + signal). Installed once; call before starting threads.
  static void remove_on_stop_signals();

 private:
  std::string final_;
  std::string temp_;
  bool committed_ = false;
};

}  // namespace dsinfer::convert
