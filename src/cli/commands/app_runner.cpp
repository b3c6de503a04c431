#include "cli/commands/app_runner.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <new>
#include <vector>

#include "dist/collective_error.h"
#include "dist/process_world.h"
#include "io/error.h"

namespace dsinfer::cli {

namespace {

// Under mpirun: an error every rank agreed on is printed once, by rank 0,
// and every rank exits 2 normally; an error one rank met alone (its peers
// may be waiting on it in a collective) ends the whole job now.
int fail(const char* kind, const std::exception& e, bool agreed, int code) {
  Communicator& world = process_world();
  if (world.size() == 1) {
    std::fprintf(stderr, "dsinfer: %s: %s\n", kind, e.what());
    return code;
  }
  if (agreed) {
    if (world.rank() == 0) std::fprintf(stderr, "dsinfer: %s: %s\n", kind, e.what());
    finalize_process_world();
    return code;
  }
  std::fprintf(stderr, "dsinfer: %s: rank %d: %s\n", kind, world.rank(), e.what());
  std::fflush(stderr);
  abort_process_world(code);
}

}  // namespace

int run_app(CLI::App& app, Action& action, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Every rank parses the same arguments: only rank 0 speaks.
    int rc = launched_rank() == 0 ? app.exit(e) : e.get_exit_code();
    return rc == 0 ? 0 : 2;
  }
  // A forwarded command execs another program, which starts MPI itself.
  bool forwarded = false;
  for (const CLI::App* sub : app.get_subcommands()) forwarded = forwarded || sub->get_prefix_command();
  if (!forwarded) init_process_world(&argc, &argv);
  try {
    const int rc = action ? action() : 0;
    finalize_process_world();
    return rc;
  } catch (const AgreedError& e) {
    return fail("error", e, true, 2);
  } catch (const Error& e) {
    return fail("error", e, false, 2);
  } catch (const std::filesystem::filesystem_error& e) {  // a symlink loop, a permission: names the path
    return fail("error", e, false, 2);
  } catch (const std::bad_alloc& e) {
    const Error oom("out of memory: a size from the input (a length, batch or dimension) needs more than this "
                    "machine has; lower it");
    return fail("error", oom, false, 2);
  } catch (const std::exception& e) {
    return fail("internal error", e, false, 3);
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
