#pragma once
// The process's place in a parallel job. Started by mpirun (OpenMPI's or a
// PMIx launcher's environment), the process initializes MPI and its world is
// MPI_COMM_WORLD; otherwise it is a world of one and MPI is never touched.
#include "dist/communicator.h"

namespace dsinfer {

void init_process_world(int* argc, char*** argv);
// This process's rank as the launcher's environment gives it (0 without
// one), readable before MPI starts.
int launched_rank();
// The world communicator (a SelfCommunicator before init or without mpirun).
Communicator& process_world();
bool process_world_is_mpi();
// Collective: every rank calls it once before exiting normally.
void finalize_process_world();
// Ends every rank of the job now with `code` (a failure one rank saw alone).
[[noreturn]] void abort_process_world(int code);

}  // namespace dsinfer
