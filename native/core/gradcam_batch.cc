// Grad-CAM for a batch: one trunk forward without autograd, one head forward and one backward for
// all N images. In eval mode every image's logits depend on its own features only (BatchNorm uses
// running statistics), so d(sum_i logit_i[t_i]) / d(features_i) is image i's own gradient and each
// map equals the one-image Grad-CAM of that image. A run's gallery (src/train/run-gallery.ts)
// uses it: one call per batch instead of one per image, whose fixed cost dominates on a busy CPU.
#include <stdexcept>
#include <string>

#include <torch/autograd.h>
#include <torch/nn/functional/upsampling.h>

#include "core/classifier.h"

namespace histoscope {
namespace F = torch::nn::functional;

GradCamBatchResult Classifier::gradcamBatch(const ImageBatchView& images,
                                            std::vector<int64_t> target_classes) {
  checkBatch(images);
  if (static_cast<int64_t>(target_classes.size()) != images.count) {
    throw std::invalid_argument("Got " + std::to_string(target_classes.size()) + " target classes for " +
                                std::to_string(images.count) + " images.");
  }
  for (auto t : target_classes) {
    if (t >= options_.num_classes) {
      throw std::invalid_argument("Target class " + std::to_string(t) + " is outside 0.." +
                                  std::to_string(options_.num_classes - 1) + ".");
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  model_->eval();
  auto input = modelInput(pixelsOnDevice(images, device_), nullptr);

  torch::Tensor features;
  {
    torch::NoGradGuard no_grad;
    features = model_->features(input).to(torch::kFloat32).contiguous();
  }
  features.set_requires_grad(true);
  auto logits = model_->head(features);
  auto probabilities = torch::softmax(logits.detach(), 1);
  auto predicted = probabilities.argmax(1).to(torch::kCPU);
  for (int64_t i = 0; i < images.count; i++) {
    if (target_classes[i] < 0) target_classes[i] = predicted[i].item<int64_t>();
  }
  auto targets = torch::tensor(target_classes, torch::kLong).to(device_).unsqueeze(1);
  auto score = logits.gather(1, targets).sum();
  auto gradients = torch::autograd::grad({score}, {features})[0];

  torch::NoGradGuard no_grad;
  auto channel_weights = gradients.mean({2, 3}, /*keepdim=*/true);  // [N, C, 1, 1]
  auto cams = torch::relu((channel_weights * features.detach()).sum(1, /*keepdim=*/true));
  cams = F::interpolate(cams, F::InterpolateFuncOptions()
                                  .size(std::vector<int64_t>{images.height, images.width})
                                  .mode(torch::kBilinear)
                                  .align_corners(false))
             .squeeze(1);
  // Min-max per image to 0..1; a flat map (no positive evidence anywhere) stays all zeros.
  auto low = std::get<0>(cams.flatten(1).min(1)).view({-1, 1, 1});
  auto range = std::get<0>(cams.flatten(1).max(1)).view({-1, 1, 1}) - low;
  auto flat = range <= 1e-12;
  cams = torch::where(flat, torch::zeros_like(cams), (cams - low) / range.clamp_min(1e-12));
  return {cams.to(torch::kCPU).contiguous(), probabilities.to(torch::kCPU).contiguous(), target_classes};
}

}  // namespace histoscope
