#include "core/resnet.h"

#include <cmath>

namespace histoscope {
namespace {

torch::nn::Conv2d conv3x3(int64_t in, int64_t out, int64_t stride) {
  return torch::nn::Conv2d(
      torch::nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false));
}

torch::nn::Conv2d conv1x1(int64_t in, int64_t out, int64_t stride = 1) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 1).stride(stride).bias(false));
}

// One stage: `blocks` bottlenecks, the first of which may downsample and widen.
torch::nn::Sequential makeLayer(int64_t& in_channels, int64_t width, int64_t blocks,
                                int64_t stride) {
  torch::nn::Sequential layer;
  for (int64_t i = 0; i < blocks; ++i) {
    layer->push_back(Bottleneck(in_channels, width, i == 0 ? stride : 1));
    in_channels = width * BottleneckImpl::kExpansion;
  }
  return layer;
}

torch::Tensor normalise(torch::nn::BatchNorm2d& bn, const torch::Tensor& x,
                        const std::shared_ptr<const TrainingBatchNorm>& training, bool folded) {
  if (folded) return x;  // already applied by the convolution's weights and bias
  return training && bn->is_training() ? (*training)(*bn, x) : bn->forward(x);
}

// conv followed by bn (eval mode) as one convolution: weights scaled per output channel, and a
// bias. The bias is set, not registered: a folded model is never saved, and its parameter list
// (counts, trainable values) stays the checkpoint's.
void foldInto(torch::nn::Conv2dImpl& conv, const torch::nn::BatchNorm2dImpl& bn) {
  auto scale = bn.weight / torch::sqrt(bn.running_var + bn.options.eps());
  conv.weight.mul_(scale.reshape({-1, 1, 1, 1}));  // in place: keeps channels-last strides
  auto shift = bn.bias - bn.running_mean * scale;
  conv.bias = conv.bias.defined() ? conv.bias * scale + shift : shift;
}

}  // namespace

BottleneckImpl::BottleneckImpl(int64_t in_channels, int64_t width, int64_t stride) {
  const int64_t out_channels = width * kExpansion;
  conv1 = register_module("conv1", conv1x1(in_channels, width));
  bn1 = register_module("bn1", torch::nn::BatchNorm2d(width));
  conv2 = register_module("conv2", conv3x3(width, width, stride));
  bn2 = register_module("bn2", torch::nn::BatchNorm2d(width));
  conv3 = register_module("conv3", conv1x1(width, out_channels));
  bn3 = register_module("bn3", torch::nn::BatchNorm2d(out_channels));
  if (stride != 1 || in_channels != out_channels) {
    // torchvision names the projection's parts "downsample.0" (conv) and "downsample.1" (bn).
    downsample_conv = conv1x1(in_channels, out_channels, stride);
    downsample_bn = torch::nn::BatchNorm2d(out_channels);
    downsample = register_module("downsample", torch::nn::Sequential(downsample_conv, downsample_bn));
  }
}

torch::Tensor BottleneckImpl::forward(torch::Tensor x) {
  const auto& norm = training_batch_norm;
  const bool folded = batch_norm_folded;
  torch::Tensor identity = downsample ? normalise(downsample_bn, downsample_conv(x), norm, folded) : x;
  torch::Tensor out = torch::relu(normalise(bn1, conv1(x), norm, folded));
  out = torch::relu(normalise(bn2, conv2(out), norm, folded));
  out = normalise(bn3, conv3(out), norm, folded);
  return torch::relu(out + identity);
}

ResNet50Impl::ResNet50Impl(int64_t num_classes) {
  conv1 = register_module(
      "conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 64, 7).stride(2).padding(3).bias(false)));
  bn1 = register_module("bn1", torch::nn::BatchNorm2d(64));
  maxpool = register_module("maxpool",
                            torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(3).stride(2).padding(1)));
  int64_t channels = 64;
  layer1 = register_module("layer1", makeLayer(channels, 64, 3, 1));
  layer2 = register_module("layer2", makeLayer(channels, 128, 4, 2));
  layer3 = register_module("layer3", makeLayer(channels, 256, 6, 2));
  layer4 = register_module("layer4", makeLayer(channels, 512, 3, 2));
  fc = register_module("fc", torch::nn::Linear(512 * BottleneckImpl::kExpansion, num_classes));

  // torchvision's initialisation: Kaiming normal (fan_out) for convolutions, BN weight 1 and
  // bias 0; the linear layer keeps PyTorch's default. Only matters when training from scratch.
  torch::NoGradGuard no_grad;
  for (auto& module : modules(/*include_self=*/false)) {
    if (auto* conv = module->as<torch::nn::Conv2d>()) {
      torch::nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
    } else if (auto* bn = module->as<torch::nn::BatchNorm2d>()) {
      torch::nn::init::ones_(bn->weight);
      torch::nn::init::zeros_(bn->bias);
    }
  }
}

torch::Tensor ResNet50Impl::features(torch::Tensor x) {
  x = maxpool(torch::relu(normalise(bn1, conv1(x), training_batch_norm, batch_norm_folded)));
  return layer4->forward(layer3->forward(layer2->forward(layer1->forward(x))));
}

torch::Tensor ResNet50Impl::head(torch::Tensor feature_map) {
  return fc(torch::flatten(torch::adaptive_avg_pool2d(feature_map, {1, 1}), 1));
}

void ResNet50Impl::setTrainingBatchNorm(TrainingBatchNorm norm) {
  training_batch_norm = norm ? std::make_shared<const TrainingBatchNorm>(std::move(norm)) : nullptr;
  for (auto& module : modules(/*include_self=*/false)) {
    if (auto* block = module->as<Bottleneck>()) block->training_batch_norm = training_batch_norm;
  }
}

void ResNet50Impl::foldBatchNorm() {
  if (batch_norm_folded) return;
  torch::NoGradGuard no_grad;
  foldInto(*conv1, *bn1);
  for (auto& module : modules(/*include_self=*/false)) {
    auto* block = module->as<Bottleneck>();
    if (!block) continue;
    foldInto(*block->conv1, *block->bn1);
    foldInto(*block->conv2, *block->bn2);
    foldInto(*block->conv3, *block->bn3);
    if (block->downsample) foldInto(*block->downsample_conv, *block->downsample_bn);
    block->batch_norm_folded = true;
  }
  batch_norm_folded = true;
}

void ResNet50Impl::resetHead(int64_t num_classes) {
  auto device = fc->weight.device();
  fc = replace_module("fc", torch::nn::Linear(fc->options.in_features(), num_classes));
  fc->to(device);
}

int64_t parameterCount(const torch::nn::Module& module, bool trainable_only) {
  int64_t count = 0;
  for (const auto& p : module.parameters()) {
    if (!trainable_only || p.requires_grad()) count += p.numel();
  }
  return count;
}

}  // namespace histoscope
