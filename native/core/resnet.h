// ResNet-50 (He et al., 2016) written with the libtorch C++ frontend, with torchvision's exact
// module, parameter and buffer names (conv1, bn1, layer1.0.conv1 ... layer4.2.bn3, fc), so a
// torchvision state dict maps onto it 1:1. Modelled on torchvision/models/resnet.py.
#pragma once

#include <functional>
#include <memory>

#include <torch/nn.h>

namespace histoscope {

// How a BatchNorm layer in training mode normalises: unset, the module itself (statistics of this
// process's batch); data-parallel training with synchronised statistics sets one over all ranks.
using TrainingBatchNorm = std::function<torch::Tensor(torch::nn::BatchNorm2dImpl&, const torch::Tensor&)>;

// The bottleneck block: 1x1 reduce, 3x3 (carries the stride, as torchvision's "ResNet v1.5"
// does), 1x1 expand by `kExpansion`, plus an identity or projection shortcut.
class BottleneckImpl : public torch::nn::Module {
 public:
  static constexpr int64_t kExpansion = 4;
  BottleneckImpl(int64_t in_channels, int64_t width, int64_t stride);
  torch::Tensor forward(torch::Tensor x);

  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
  torch::nn::Sequential downsample{nullptr};  // empty handle when the shortcut is the identity
  // The projection's two parts (the same modules as downsample's), to apply the norm explicitly.
  torch::nn::Conv2d downsample_conv{nullptr};
  torch::nn::BatchNorm2d downsample_bn{nullptr};
  std::shared_ptr<const TrainingBatchNorm> training_batch_norm;
  // Set by ResNet50Impl::foldBatchNorm: the norms live in the convolutions and are skipped.
  bool batch_norm_folded = false;
};
TORCH_MODULE(Bottleneck);

class ResNet50Impl : public torch::nn::Module {
 public:
  explicit ResNet50Impl(int64_t num_classes = 1000);

  // The convolutional trunk up to and including layer4: [N,3,H,W] -> [N,2048,H/32,W/32].
  // Grad-CAM reads its output.
  torch::Tensor features(torch::Tensor x);
  // Global average pool and the linear classifier: layer4 output -> logits.
  torch::Tensor head(torch::Tensor feature_map);
  torch::Tensor forward(torch::Tensor x) { return head(features(x)); }

  // Every BatchNorm layer in training mode normalises with `norm` (null: the modules themselves).
  void setTrainingBatchNorm(TrainingBatchNorm norm);

  // For inference only, and irreversible: folds every BatchNorm's eval-mode affine map
  // (y = (x - mean) / sqrt(var + eps) * weight + bias) into the convolution before it, which
  // gains a bias, so a forward pass skips 53 elementwise passes over the activations. The
  // BatchNorm modules keep their values but are no longer applied; training or saving such a
  // model would be wrong, and the classifier refuses both.
  void foldBatchNorm();
  bool batchNormFolded() const { return batch_norm_folded; }

  // Replaces `fc` with a freshly initialised linear layer of `num_classes` outputs.
  void resetHead(int64_t num_classes);
  int64_t numClasses() const { return fc->options.out_features(); }

  torch::nn::Conv2d conv1{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr};
  torch::nn::MaxPool2d maxpool{nullptr};
  torch::nn::Sequential layer1{nullptr}, layer2{nullptr}, layer3{nullptr}, layer4{nullptr};
  torch::nn::Linear fc{nullptr};
  std::shared_ptr<const TrainingBatchNorm> training_batch_norm;
  bool batch_norm_folded = false;
};
TORCH_MODULE(ResNet50);

// Total number of parameters (25,557,032 for 1000 classes, as torchvision reports).
int64_t parameterCount(const torch::nn::Module& module, bool trainable_only = false);

}  // namespace histoscope
