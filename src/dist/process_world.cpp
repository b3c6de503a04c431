#include "dist/process_world.h"

#include <mpi.h>

#include <cstdlib>
#include <memory>

#include "dist/mpi_communicator.h"

namespace dsinfer {
namespace {

std::unique_ptr<Communicator>& world_slot() {
  static std::unique_ptr<Communicator> world = std::make_unique<SelfCommunicator>();
  return world;
}
bool g_mpi = false;

bool launched_by_mpirun() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"})
    if (std::getenv(v)) return true;
  return false;
}

}  // namespace

int launched_rank() {
  for (const char* v : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"})
    if (const char* r = std::getenv(v)) return std::atoi(r);
  return 0;
}

void init_process_world(int* argc, char*** argv) {
  if (g_mpi || !launched_by_mpirun()) return;
  int provided = 0;
  // The server's engine thread is not the main thread; one thread at a time calls MPI.
  MPI_Init_thread(argc, argv, MPI_THREAD_SERIALIZED, &provided);
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  g_mpi = true;
  world_slot() = make_mpi_world_communicator();
}

Communicator& process_world() { return *world_slot(); }

bool process_world_is_mpi() { return g_mpi; }

void finalize_process_world() {
  if (!g_mpi) return;
  world_slot() = std::make_unique<SelfCommunicator>();
  MPI_Finalize();
  g_mpi = false;
}

void abort_process_world(int code) {
  if (g_mpi) MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

}  // namespace dsinfer
