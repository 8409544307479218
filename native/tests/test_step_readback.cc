// One device-to-host copy per train step (core/step_readback.h): the packed read must give back
// exactly what separate reads would, including the rank without images (no loss, no fallbacks).
#include <torch/torch.h>

#include "core/step_readback.h"
#include "harness.h"

using namespace histoscope;

TEST_CASE("a train step's loss, logits and fallback count come back exactly in one read") {
  torch::manual_seed(7);
  auto logits = torch::randn({5, 2}) * 1e3;  // float32 values with all mantissa bits in use
  auto loss = torch::tensor({0.1f}) / 3;
  auto fallback = torch::tensor({true, false, true, true, false});
  auto result = readBackStep(loss, logits, fallback, torch::kCPU);
  CHECK(result.loss == static_cast<double>(loss.item<float>()));
  CHECK(result.stain_fallbacks == 3);
  CHECK(result.logits.scalar_type() == torch::kFloat32);
  CHECK(result.logits.sizes() == logits.sizes());
  CHECK(torch::equal(result.logits, logits));
}

TEST_CASE("bf16 logits and a float64 loss keep their values; a rank without images reads zeros") {
  auto logits = torch::tensor({1.5f, -2.25f, 3.0f, 0.125f}).reshape({2, 2}).to(torch::kBFloat16);
  auto loss = torch::tensor({1.0 / 3.0}, torch::kFloat64);
  auto result = readBackStep(loss, logits, torch::Tensor(), torch::kCPU);
  CHECK(result.loss == 1.0 / 3.0);
  CHECK(result.stain_fallbacks == 0);
  CHECK(torch::equal(result.logits, logits.to(torch::kFloat32)));

  auto empty = readBackStep(torch::Tensor(), torch::empty({0, 2}), torch::Tensor(), torch::kCPU);
  CHECK(empty.loss == 0);
  CHECK(empty.logits.size(0) == 0);
  CHECK(empty.logits.size(1) == 2);
}
