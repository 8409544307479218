#pragma once
// A train step's results reach the host in one device-to-host copy: on CUDA each separate read
// (loss.item(), logits.cpu(), a fallback count) is a wait for the device, and one read per step is
// the least a caller that reports per-step loss can do.

#include <torch/torch.h>

namespace histoscope {

struct TrainStepResult {
  double loss = 0;
  torch::Tensor logits;  // [N, classes], float32, CPU
  int64_t stain_fallbacks = 0;  // images the stain normaliser left unchanged
};

// `loss`: a one-element tensor or undefined (0); `fallback`: [N] bool or undefined (none);
// `logits`: [N, classes]. Tensors may live on different devices; they are packed on `device`.
TrainStepResult readBackStep(const torch::Tensor& loss, const torch::Tensor& logits,
                          const torch::Tensor& fallback, const c10::Device& device);

}  // namespace histoscope
