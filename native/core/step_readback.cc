#include "core/step_readback.h"

namespace histoscope {

TrainStepResult readBackStep(const torch::Tensor& loss, const torch::Tensor& logits,
                          const torch::Tensor& fallback, const c10::Device& device) {
  torch::NoGradGuard no_grad;
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64).device(device);
  // float32 -> float64 -> float32 is exact, so packing changes no value.
  auto packed = torch::cat({loss.defined() ? loss.detach().reshape({1}).to(device, torch::kFloat64)
                                           : torch::zeros({1}, f64),
                            fallback.defined() ? fallback.sum().reshape({1}).to(device, torch::kFloat64)
                                               : torch::zeros({1}, f64),
                            logits.detach().reshape({-1}).to(device, torch::kFloat64)})
                    .to(torch::kCPU);
  const auto* values = packed.data_ptr<double>();
  TrainStepResult result;
  result.loss = values[0];
  result.stain_fallbacks = static_cast<int64_t>(values[1]);
  result.logits = packed.slice(0, 2).to(torch::kFloat32).reshape({logits.size(0), logits.size(1)}).contiguous();
  return result;
}

}  // namespace histoscope
