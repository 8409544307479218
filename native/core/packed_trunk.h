// The convolutional trunk of a folded ResNet-50 (resnet.h: foldBatchNorm) with its weights
// reordered once into oneDNN's blocked layout, for fp32 inference on CPU. Eager libtorch hands
// oneDNN plain weights, which it reorders on every call: 25M weights rewritten per forward pass,
// which at batch 1 is a large share of the time. Here the reorder is paid at load, and the
// activations stay in oneDNN's layout from the first convolution to layer4's output.
// What PyTorch's torch.utils.mkldnn.to_mkldnn does for a Python model.
#pragma once

#include <vector>

#include <torch/torch.h>

#include "core/resnet.h"

namespace histoscope {

class PackedTrunk {
 public:
  // Whether this libtorch can run it: built with oneDNN (MKL-DNN) and on CPU.
  static bool available();
  // Copies and reorders the folded model's convolutions; the model itself is left as it is.
  explicit PackedTrunk(ResNet50Impl& folded);

  // The same as ResNet50Impl::features for fp32 [N,3,H,W] input (any memory format): layer4's
  // output as a dense float tensor. Call without autograd (the trunk is never differentiated).
  torch::Tensor features(const torch::Tensor& input) const;

 private:
  struct Conv {
    torch::Tensor weight;  // oneDNN layout, reordered for this convolution's geometry
    torch::Tensor bias;    // dense
    std::vector<int64_t> stride, padding;
  };
  struct Block {
    Conv conv1, conv2, conv3, downsample;
    bool has_downsample = false;
  };
  static Conv pack(const torch::nn::Conv2dImpl& conv);
  static torch::Tensor run(const Conv& conv, const torch::Tensor& x);

  Conv stem_;
  std::vector<Block> blocks_;
};

}  // namespace histoscope
