// The folded, oneDNN-packed trunk against the modules it was packed from: the same layer4 output
// for any batch and image size, in fp32, on CPU (the only place it runs).
#include <torch/torch.h>

#include "core/packed_trunk.h"
#include "core/resnet.h"
#include "harness.h"

using namespace histoscope;

namespace {

// A ResNet-50 with BatchNorm statistics far from the identity, so that folding is exercised.
ResNet50 randomisedModel() {
  torch::manual_seed(11);
  ResNet50 model(2);
  torch::NoGradGuard no_grad;
  for (auto& module : model->modules(/*include_self=*/false)) {
    if (auto* bn = module->as<torch::nn::BatchNorm2d>()) {
      bn->running_mean.uniform_(-0.2, 0.2);
      bn->running_var.uniform_(0.5, 1.5);
      bn->weight.uniform_(0.5, 1.5);
      bn->bias.uniform_(-0.2, 0.2);
    }
  }
  model->eval();
  return model;
}

double relativeError(const torch::Tensor& got, const torch::Tensor& want) {
  return ((got - want).abs().max() / want.abs().max()).item<double>();
}

}  // namespace

TEST_CASE("the packed trunk gives the folded model's layer4 output for any batch and image size") {
  if (!PackedTrunk::available()) SKIP("this libtorch has no oneDNN");
  auto model = randomisedModel();
  torch::NoGradGuard no_grad;
  torch::manual_seed(3);
  std::vector<torch::Tensor> inputs = {torch::randn({1, 3, 224, 224}), torch::randn({3, 3, 96, 128}),
                                       torch::randn({2, 3, 64, 64}).contiguous(at::MemoryFormat::ChannelsLast)};
  std::vector<torch::Tensor> unfolded;
  for (const auto& x : inputs) unfolded.push_back(model->features(x));
  model->foldBatchNorm();
  PackedTrunk packed(*model);
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto want = model->features(inputs[i]);
    auto got = packed.features(inputs[i]);
    CHECK(got.sizes() == want.sizes());
    CHECK(!got.is_mkldnn() && got.scalar_type() == torch::kFloat32);
    double error = relativeError(got, want);
    CHECK_MSG(error < 1e-4, "input " << i << ": max |difference| / max |value| = " << error);
    CHECK_MSG(relativeError(got, unfolded[i]) < 1e-4, "input " << i << " against the unfolded model");
  }
}

TEST_CASE("the packed trunk refuses a model whose BatchNorm is not folded") {
  if (!PackedTrunk::available()) SKIP("this libtorch has no oneDNN");
  auto model = randomisedModel();
  CHECK_THROWS_WITH(PackedTrunk trunk(*model), "BatchNorm is folded");
}
