// Making every rank hold rank 0's tensors: the weights before the first step (so ranks start
// identical whatever they loaded) and the BatchNorm buffers before each step (as DDP's
// broadcast_buffers does, so the running statistics saved and evaluated are rank 0's).
#pragma once

#include <vector>

#include <torch/types.h>

#include "core/distributed/process_group.h"

namespace histoscope::distributed {

// Overwrites `tensors` with `root`'s values: one flat broadcast per dtype, not one per tensor.
void broadcastTensors(ProcessGroup& group, const std::vector<torch::Tensor>& tensors, int root);

}  // namespace histoscope::distributed
