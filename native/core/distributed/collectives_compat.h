// The c10d types Histoscope uses, named once for both libtorch lines: in 1.13 ProcessGroupGloo and
// ProcessGroupNCCL derive from c10d::ProcessGroup, from 2.0 on from c10d::Backend; both bases
// offer the same allreduce/broadcast/allgather/barrier calls used here.
#pragma once

#include <torch/version.h>

#include <torch/csrc/distributed/c10d/Store.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/Work.hpp>

#if TORCH_VERSION_MAJOR >= 2
#include <torch/csrc/distributed/c10d/Backend.hpp>
#else
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#endif

namespace histoscope::distributed {

#if TORCH_VERSION_MAJOR >= 2
using CollectiveBackend = c10d::Backend;
#else
using CollectiveBackend = c10d::ProcessGroup;
#endif
using CollectiveWork = c10d::Work;

}  // namespace histoscope::distributed
