#include "core/cam_weights.h"

#include <stdexcept>

#include <torch/torch.h>

namespace histoscope {

CamMethod parseCamMethod(const std::string& name) {
  if (name == "gradcam") return CamMethod::kGradCam;
  if (name == "gradcam++") return CamMethod::kGradCamPlusPlus;
  throw std::invalid_argument("Unknown CAM method '" + name + "': expected gradcam or gradcam++.");
}

std::string toString(CamMethod method) {
  return method == CamMethod::kGradCam ? "gradcam" : "gradcam++";
}

torch::Tensor camChannelWeights(const torch::Tensor& gradients, const torch::Tensor& features,
                                CamMethod method) {
  if (method == CamMethod::kGradCam) return gradients.mean({2, 3}, /*keepdim=*/true);
  auto g2 = gradients * gradients;
  auto g3 = g2 * gradients;
  auto activation_sums = features.sum({2, 3}, /*keepdim=*/true);
  auto denominator = 2 * g2 + activation_sums * g3;
  // Where the denominator vanishes the gradient does too (or the channel is silent): alpha 0.
  auto safe = torch::where(denominator != 0, denominator, torch::ones_like(denominator));
  auto alpha = torch::where(denominator != 0, g2 / safe, torch::zeros_like(g2));
  return (alpha * torch::relu(gradients)).sum({2, 3}, /*keepdim=*/true);
}

}  // namespace histoscope
