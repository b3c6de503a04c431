#include "cli/commands/app_runner.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <vector>

#include "io/error.h"

namespace dsinfer::cli {

int run_app(CLI::App& app, Action& action, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  try {
    return action ? action() : 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "dsinfer: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dsinfer: internal error: %s\n", e.what());
    return 3;
  }
}

void register_forwarded_command(CLI::App& app, Action& action, const std::string& name,
                                const std::string& description, const std::string& program) {
  CLI::App* cmd = app.add_subcommand(name, description + " (run by " + program + "; `dsinfer " + name + " --help`)");
  cmd->prefix_command();  // everything after the name, --help included, belongs to the program
  cmd->set_help_flag();
  cmd->callback([&action, cmd, name, program] {
    action = [cmd, name, program]() -> int {
      std::error_code ec;
      const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
      const std::string path = (ec ? std::filesystem::path(".") : self.parent_path()) / program;
      std::vector<std::string> args{"dsinfer", name};
      for (const auto& a : cmd->remaining()) args.push_back(a);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(path.c_str(), argv.data());
      throw Error(name + ": cannot run " + path + ": " + std::strerror(errno));
    };
  });
}

}  // namespace dsinfer::cli
