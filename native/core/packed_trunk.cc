#include "core/packed_trunk.h"

#include <stdexcept>

#include <ATen/Context.h>

namespace histoscope {

bool PackedTrunk::available() { return at::hasMKLDNN(); }

PackedTrunk::Conv PackedTrunk::pack(const torch::nn::Conv2dImpl& conv) {
  if (!conv.bias.defined()) throw std::logic_error("PackedTrunk takes a folded model: a convolution has no bias.");
  const auto& options = conv.options;
  at::IntArrayRef kernel = options.kernel_size();
  at::IntArrayRef stride = options.stride();
  Conv packed;
  packed.stride = stride.vec();
  // Every ResNet-50 convolution pads by half its kernel (7 → 3, 3 → 1, 1 → 0).
  packed.padding = {kernel[0] / 2, kernel[1] / 2};
  torch::NoGradGuard no_grad;
  auto plain = conv.weight.detach().to(torch::kFloat32).contiguous().to_mkldnn();
  packed.weight = at::mkldnn_reorder_conv2d_weight(plain, packed.padding, packed.stride, {1, 1}, 1);
  packed.bias = conv.bias.detach().to(torch::kFloat32).contiguous();
  return packed;
}

PackedTrunk::PackedTrunk(ResNet50Impl& folded) {
  if (!available()) throw std::logic_error("This libtorch was built without oneDNN (MKL-DNN).");
  if (!folded.batchNormFolded()) throw std::logic_error("PackedTrunk takes a model whose BatchNorm is folded.");
  stem_ = pack(*folded.conv1);
  for (auto* layer : {&folded.layer1, &folded.layer2, &folded.layer3, &folded.layer4}) {
    for (const auto& module : (*layer)->children()) {
      auto* block = module->as<Bottleneck>();
      Block packed;
      packed.conv1 = pack(*block->conv1);
      packed.conv2 = pack(*block->conv2);
      packed.conv3 = pack(*block->conv3);
      packed.has_downsample = static_cast<bool>(block->downsample);
      if (packed.has_downsample) packed.downsample = pack(*block->downsample_conv);
      blocks_.push_back(std::move(packed));
    }
  }
}

torch::Tensor PackedTrunk::run(const Conv& conv, const torch::Tensor& x) {
  return at::mkldnn_convolution(x, conv.weight, conv.bias, conv.padding, conv.stride, {1, 1}, 1);
}

torch::Tensor PackedTrunk::features(const torch::Tensor& input) const {
  // relu, add and max_pool2d dispatch to their oneDNN kernels for tensors in oneDNN's layout.
  auto x = input.to(torch::kFloat32).contiguous().to_mkldnn();
  x = at::max_pool2d(at::relu(run(stem_, x)), {3, 3}, {2, 2}, {1, 1});
  for (const auto& block : blocks_) {
    auto out = at::relu(run(block.conv1, x));
    out = at::relu(run(block.conv2, out));
    out = run(block.conv3, out);
    auto identity = block.has_downsample ? run(block.downsample, x) : x;
    x = at::relu(at::add(out, identity));
  }
  return x.to_dense();
}

}  // namespace histoscope
