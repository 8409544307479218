// Batched Grad-CAM: each image's map is the one it gets alone in a batch of one (no cross-talk
// between the images of a micro-batch), for Grad-CAM and Grad-CAM++.
#include <cstdlib>
#include <random>

#include <torch/torch.h>

#include "core/classifier.h"
#include "harness.h"

using namespace histoscope;

namespace {

std::vector<uint8_t> noiseImages(int64_t n, int64_t side, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> byte(0, 255);
  std::vector<uint8_t> pixels(static_cast<size_t>(n * side * side * 3));
  for (auto& p : pixels) p = static_cast<uint8_t>(byte(rng));
  return pixels;
}

ClassifierOptions options() {
  ClassifierOptions o;
  const char* device = std::getenv("HISTOSCOPE_TEST_DEVICE");
  o.device = device ? device : "cpu";
  o.image_size = 64;
  o.seed = 11;
  return o;
}

}  // namespace

TEST_CASE("batched grad-cam equals each image's grad-cam in a batch of one") {
  Classifier classifier(options());
  const int64_t n = 3, side = 72;
  auto pixels = noiseImages(n, side, 3);
  for (auto method : {CamMethod::kGradCam, CamMethod::kGradCamPlusPlus}) {
    auto batch = classifier.gradcam({pixels.data(), n, side, side}, {-1, 0, 1}, method);
    CHECK(batch.size() == static_cast<size_t>(n));
    for (int64_t i = 0; i < n; i++) {
      const uint8_t* image = pixels.data() + i * side * side * 3;
      auto one = classifier.gradcam({image, 1, side, side}, std::vector<int64_t>{i == 0 ? -1 : i - 1}, method).at(0);
      CHECK(batch[i].cam.sizes() == torch::IntArrayRef({side, side}));
      CHECK(batch[i].target_class == one.target_class);
      CHECK_MSG(torch::allclose(batch[i].cam, one.cam, 1e-4, 1e-4), "image " << i << " max diff "
                << (batch[i].cam - one.cam).abs().max().item<float>());
      CHECK(torch::allclose(batch[i].probabilities, one.probabilities, 1e-4, 1e-5));
    }
  }
}

TEST_CASE("batched grad-cam checks its target classes") {
  Classifier classifier(options());
  auto pixels = noiseImages(2, 64, 4);
  CHECK_THROWS_WITH(classifier.gradcam({pixels.data(), 2, 64, 64}, std::vector<int64_t>{0}), "Got 1 Grad-CAM target classes for 2 images");
  CHECK_THROWS_WITH(classifier.gradcam({pixels.data(), 2, 64, 64}, {0, 2}), "Target class 2 is outside 0..1");
}
