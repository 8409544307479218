// Synchronised BatchNorm (the scheme of torch.nn.SyncBatchNorm): in a data-parallel step, a
// BatchNorm layer in training mode normalises with the statistics of the whole global batch, not
// of this rank's share, so W ranks compute what one process computes on the global batch.
// Forward: one all-reduce of (sum, sum of squares, count) per channel; the running statistics are
// updated with the global mean and unbiased variance, as BatchNorm does. Backward: the gradient of
// the weight and bias is this rank's (the gradient reducer sums it over ranks); the input's needs
// the global sums of dy and dy * (x - mean), one more all-reduce.
#pragma once

#include <memory>

#include <torch/nn/modules/batchnorm.h>
#include <torch/types.h>

#include "core/distributed/process_group.h"

namespace histoscope::distributed {

// `bn` in training mode applied to `input` ([N, C, ...], any N including 0) over every rank's rows.
// `rows_count` false: this rank's rows are a placeholder (a rank with no images that still runs the
// step so that it issues the same collectives): they contribute nothing to the statistics or to
// the gradient sums. Every rank must call this for the same layers, in the same order, and run
// the backward of every call whose input needs a gradient.
torch::Tensor syncBatchNorm(const std::shared_ptr<ProcessGroup>& group, torch::nn::BatchNorm2dImpl& bn,
                            const torch::Tensor& input, bool rows_count = true);

}  // namespace histoscope::distributed
