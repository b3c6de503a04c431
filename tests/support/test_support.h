#pragma once
// Shared helpers for tests: data paths, running the CLI, temp directories.
#include <string>

namespace dsinfer::test {

// tests/data in the source tree (holds tiny checkpoints and golden files).
std::string data_path(const std::string& rel);
// A fresh empty directory under the system temp dir, removed by the caller.
std::string make_temp_dir(const std::string& tag);

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};
// Runs the built `dsinfer` binary with the given argument string.
CommandResult run_dsinfer(const std::string& args);
// Runs any shell command line (stdout and stderr captured together).
CommandResult run_shell(const std::string& command_line);
// The built dsinfer binary and the source tree root.
std::string dsinfer_binary();
std::string source_root();
// Runs it (via /bin/sh, output discarded) and returns its peak resident set size in bytes.
long peak_rss_of_dsinfer(const std::string& args, int* exit_code);

}  // namespace dsinfer::test
