#pragma once
// The Communicator over an MPI communicator (OpenMPI from Debian). Only the
// dist layer sees <mpi.h>.
#include <memory>

#include "dist/communicator.h"

namespace dsinfer {

// MPI_COMM_WORLD of an initialized MPI (see process_world.h).
std::unique_ptr<Communicator> make_mpi_world_communicator();

}  // namespace dsinfer
