// The native core without Node: model structure, preprocessing, training, inference, Grad-CAM
// and checkpoints. Runs on CPU here and on CUDA when HISTOSCOPE_TEST_DEVICE=cuda.
#include <cstdio>
#include <cstdlib>
#include <random>
#include <set>

#include <torch/torch.h>

#include "core/classifier.h"
#include "core/preprocess.h"
#include "core/resnet.h"
#include "core/runtime.h"
#include "harness.h"

using namespace histoscope;

namespace {

std::string testDevice() {
  const char* device = std::getenv("HISTOSCOPE_TEST_DEVICE");
  return device ? device : "cpu";
}

ClassifierOptions smallOptions() {
  ClassifierOptions options;
  options.device = testDevice();
  options.image_size = 64;  // keeps CPU tests fast; the architecture is size-agnostic
  options.seed = 7;
  return options;
}

// Two visibly different classes: class 0 dark left half, class 1 dark right half, with noise.
std::vector<uint8_t> makeImages(const std::vector<int64_t>& labels, int64_t size, uint32_t seed) {
  std::vector<uint8_t> pixels(labels.size() * size * size * 3);
  uint32_t state = seed;
  for (size_t n = 0; n < labels.size(); ++n) {
    for (int64_t y = 0; y < size; ++y) {
      for (int64_t x = 0; x < size; ++x) {
        state = state * 1664525u + 1013904223u;
        bool dark = labels[n] == 0 ? x < size / 2 : x >= size / 2;
        uint8_t base = dark ? 60 : 200;
        for (int c = 0; c < 3; ++c) {
          pixels[((n * size + y) * size + x) * 3 + c] = static_cast<uint8_t>(base + (state >> 28));
        }
      }
    }
  }
  return pixels;
}

std::string tempPath(const std::string& name) {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/histoscope-native-" + name;
}

}  // namespace

TEST_CASE("resnet50 has torchvision's parameter count and names") {
  ResNet50 model(1000);
  CHECK_MSG(parameterCount(*model) == 25557032, parameterCount(*model));
  std::set<std::string> names;
  for (const auto& item : model->named_parameters()) names.insert(item.key());
  for (const auto& item : model->named_buffers()) names.insert(item.key());
  for (const char* expected : {"conv1.weight", "bn1.running_mean", "bn1.num_batches_tracked",
                               "layer1.0.downsample.0.weight", "layer1.0.downsample.1.running_var",
                               "layer2.3.conv2.weight", "layer3.5.bn3.bias", "layer4.2.bn3.weight",
                               "fc.weight", "fc.bias"}) {
    CHECK_MSG(names.count(expected) == 1, expected);
  }
  // 53 conv/linear weights + 53 BN x (weight, bias, mean, var, count) ... torchvision has 320 keys.
  CHECK_MSG(names.size() == 320, names.size());
}

TEST_CASE("trainable policy layer4+fc freezes everything below layer4") {
  auto options = smallOptions();
  Classifier classifier(options);
  const int64_t trainable = classifier.parameterCount(true);
  // layer4: 14,964,736 parameters; fc with 2 classes: 4,098.
  CHECK_MSG(trainable == 14964736 + 4098, trainable);
  options.trainable = TrainablePolicy::kFc;
  CHECK(Classifier(options).parameterCount(true) == 4098);
  options.trainable = TrainablePolicy::kAll;
  CHECK(Classifier(options).parameterCount(true) == Classifier(options).parameterCount(false));
}

TEST_CASE("augmentation is deterministic for a seed and changes with it") {
  auto images = torch::rand({4, 3, 32, 32});
  AugmentOptions options;
  options.max_rotation_degrees = 15;
  options.seed = 42;
  auto a = augmentImages(images, options);
  auto b = augmentImages(images, options);
  CHECK(torch::equal(a, b));
  options.seed = 43;
  CHECK(!torch::equal(a, augmentImages(images, options)));
  CHECK(a.sizes() == images.sizes());
}

TEST_CASE("right-angle augmentation only permutes pixels") {
  auto images = torch::rand({8, 3, 16, 16});
  AugmentOptions options;
  options.seed = 3;
  auto out = augmentImages(images, options);
  for (int64_t i = 0; i < 8; ++i) {
    auto a = std::get<0>(images[i].flatten().sort());
    auto b = std::get<0>(out[i].flatten().sort());
    CHECK(torch::allclose(a, b));
  }
}

TEST_CASE("grouped right-angle augmentation equals transforming each image on its own") {
  auto images = torch::rand({64, 3, 12, 12});
  AugmentOptions options;
  options.seed = 11;
  auto out = augmentImages(images, options);
  // The same draws as augmentImages, applied image by image.
  std::mt19937_64 rng(options.seed);
  std::uniform_int_distribution<int> coin(0, 1), quarter(0, 3);
  std::uniform_real_distribution<double> angle(0, 0);
  for (int64_t i = 0; i < 64; ++i) {
    const bool h = coin(rng), v = coin(rng);
    const int k = quarter(rng);
    angle(rng);
    auto image = images[i];
    if (h) image = image.flip({2});
    if (v) image = image.flip({1});
    if (k) image = image.rot90(k, {1, 2});
    CHECK(torch::equal(out[i], image));
  }
}

TEST_CASE("white rotation fill whitens the uncovered corners") {
  auto images = torch::zeros({1, 3, 32, 32});
  AugmentOptions options;
  options.horizontal_flip = options.vertical_flip = options.right_angle_rotation = false;
  options.max_rotation_degrees = 45;
  options.fill = RotationFill::kWhite;
  options.seed = 1;
  auto out = augmentImages(images, options);
  CHECK(out[0][0][0][0].item<float>() > 0.9f);       // a corner
  CHECK(out[0][0][16][16].item<float>() < 1e-4f);    // the centre stays tissue
}

TEST_CASE("preprocessing resizes and normalises with ImageNet statistics") {
  std::vector<uint8_t> grey(2 * 10 * 20 * 3, 124);  // 124/255 ~ ImageNet's red mean
  ImageBatchView view{grey.data(), 2, 10, 20};
  auto images = toFloatImages(pixelsOnDevice(view, c10::Device(c10::kCPU)), 32);
  CHECK(images.sizes() == torch::IntArrayRef({2, 3, 32, 32}));
  auto normal = normalizeImageNet(images);
  CHECK(std::abs(normal[0][0][5][5].item<float>() - (124 / 255.0 - 0.485) / 0.229) < 1e-5);
}

TEST_CASE("predict returns logits of a probability distribution per image") {
  Classifier classifier(smallOptions());
  auto pixels = makeImages({0, 1, 1}, 64, 1);
  auto probs = torch::softmax(classifier.predict({pixels.data(), 3, 64, 64}), 1);
  CHECK(probs.sizes() == torch::IntArrayRef({3, 2}));
  CHECK(torch::allclose(probs.sum(1), torch::ones({3}), 1e-5, 1e-5));
}

TEST_CASE("train steps on a tiny batch reduce the loss") {
  auto options = smallOptions();
  options.trainable = TrainablePolicy::kAll;
  options.learning_rate = 1e-3;
  Classifier classifier(options);
  std::vector<int64_t> labels = {0, 1, 0, 1, 0, 1, 0, 1};
  auto pixels = makeImages(labels, 64, 5);
  ImageBatchView batch{pixels.data(), 8, 64, 64};
  double first = classifier.trainStep(batch, labels, {1.0, 1.0}, nullptr).loss;
  double last = first;
  for (int i = 0; i < 8; ++i) last = classifier.trainStep(batch, labels, {1.0, 1.0}, nullptr).loss;
  CHECK_MSG(last < first * 0.5, "first " << first << " last " << last);
}

TEST_CASE("frozen BatchNorm policy keeps frozen running statistics") {
  auto options = smallOptions();
  std::vector<int64_t> labels = {0, 1, 0, 1};
  auto pixels = makeImages(labels, 64, 9);
  ImageBatchView batch{pixels.data(), 4, 64, 64};
  for (auto policy : {FrozenBatchNorm::kFrozen, FrozenBatchNorm::kUpdate}) {
    options.frozen_batch_norm = policy;
    Classifier classifier(options);
    std::string path = tempPath("bn.pt");
    classifier.trainStep(batch, labels, {}, nullptr);
    classifier.save(path, {"{}", 0});
    torch::serialize::InputArchive archive, weights;
    archive.load_from(path);
    archive.read("weights", weights);
    torch::Tensor frozen_mean, layer4_mean;
    weights.read("layer1.0.bn1.running_mean", frozen_mean, true);
    weights.read("layer4.0.bn1.running_mean", layer4_mean, true);
    std::remove(path.c_str());
    bool frozen_unchanged = torch::equal(frozen_mean, torch::zeros_like(frozen_mean));
    CHECK(frozen_unchanged == (policy == FrozenBatchNorm::kFrozen));
    CHECK(!torch::equal(layer4_mean, torch::zeros_like(layer4_mean)));  // trainable BN learns
  }
}

TEST_CASE("class weights change the loss") {
  std::vector<int64_t> labels = {0, 1, 1, 1};
  auto pixels = makeImages(labels, 64, 2);
  ImageBatchView batch{pixels.data(), 4, 64, 64};
  auto options = smallOptions();
  options.learning_rate = 0;
  Classifier a(options), b(options);
  double plain = a.trainStep(batch, labels, {1.0, 1.0}, nullptr).loss;
  double weighted = b.trainStep(batch, labels, {3.0, 1.0}, nullptr).loss;
  CHECK_MSG(std::abs(plain - weighted) > 1e-6, plain << " vs " << weighted);
}

TEST_CASE("bad batches are rejected with clear messages") {
  Classifier classifier(smallOptions());
  auto pixels = makeImages({0, 1}, 64, 1);
  CHECK_THROWS_WITH(classifier.trainStep({pixels.data(), 2, 64, 64}, {0}, {}, nullptr),
                    "Got 1 labels for 2 images");
  CHECK_THROWS_WITH(classifier.trainStep({pixels.data(), 2, 64, 64}, {0, 5}, {}, nullptr),
                    "Label 5 is outside 0..1");
  CHECK_THROWS_WITH(classifier.gradcam({pixels.data(), 2, 64, 64}, -1), "exactly one image");
  CHECK_THROWS_WITH(resolveDevice("tpu"), "Unknown device 'tpu'");
}

TEST_CASE("grad-cam is a 0..1 map at the input size, for the predicted class by default") {
  Classifier classifier(smallOptions());
  auto pixels = makeImages({1}, 80, 4);
  auto cam = classifier.gradcam({pixels.data(), 1, 80, 80}, -1);
  CHECK(cam.cam.sizes() == torch::IntArrayRef({80, 80}));
  CHECK(cam.cam.min().item<float>() >= 0.0f);
  CHECK(cam.cam.max().item<float>() <= 1.0f + 1e-6f);
  CHECK(cam.target_class == cam.probabilities.argmax().item<int64_t>());
  auto other = classifier.gradcam({pixels.data(), 1, 80, 80}, 1 - cam.target_class);
  CHECK(other.target_class == 1 - cam.target_class);
}

TEST_CASE("grad-cam++ is its own 0..1 map, and unknown CAM methods are named") {
  Classifier classifier(smallOptions());
  auto pixels = makeImages({1}, 80, 4);
  auto plain = classifier.gradcam({pixels.data(), 1, 80, 80}, 1, CamMethod::kGradCam);
  auto plus = classifier.gradcam({pixels.data(), 1, 80, 80}, 1, CamMethod::kGradCamPlusPlus);
  CHECK(plus.cam.sizes() == torch::IntArrayRef({80, 80}));
  CHECK(plus.cam.min().item<float>() >= 0.0f);
  CHECK(plus.cam.max().item<float>() <= 1.0f + 1e-6f);
  CHECK(torch::allclose(plain.probabilities, plus.probabilities));
  CHECK(parseCamMethod("gradcam++") == CamMethod::kGradCamPlusPlus);
  CHECK_THROWS_WITH(parseCamMethod("scorecam"), "Unknown CAM method 'scorecam'");
}

TEST_CASE("checkpoint round trip keeps weights, optimiser state, epoch and metadata") {
  auto options = smallOptions();
  Classifier classifier(options);
  std::vector<int64_t> labels = {0, 1};
  auto pixels = makeImages(labels, 64, 8);
  ImageBatchView batch{pixels.data(), 2, 64, 64};
  classifier.trainStep(batch, labels, {}, nullptr);
  std::string path = tempPath("roundtrip.pt");
  classifier.save(path, {"{\"magnification\":\"40X\"}", 3});
  CheckpointInfo info;
  auto restored = Classifier::load(path, testDevice(), &info);
  std::remove(path.c_str());
  CHECK(info.epoch == 3);
  CHECK(info.metadata_json == "{\"magnification\":\"40X\"}");
  CHECK(torch::allclose(classifier.predict(batch), restored->predict(batch), 1e-5, 1e-5));
  // The next step is identical too, which needs Adam's moments and step count restored.
  double a = classifier.trainStep(batch, labels, {}, nullptr).loss;
  double b = restored->trainStep(batch, labels, {}, nullptr).loss;
  CHECK_MSG(std::abs(a - b) < 1e-5, a << " vs " << b);
  CHECK(torch::allclose(classifier.predict(batch), restored->predict(batch), 1e-5, 1e-5));
}

TEST_CASE("loading a file that is not a checkpoint says so") {
  std::string path = tempPath("not-a-checkpoint.pt");
  FILE* f = std::fopen(path.c_str(), "w");
  std::fputs("hello", f);
  std::fclose(f);
  CHECK_THROWS_WITH(Classifier::load(path, "cpu", nullptr), "is not a Histoscope checkpoint");
  std::remove(path.c_str());
  CHECK_THROWS_WITH(Classifier::load(path, "cpu", nullptr), "does not exist");
}
