// The native benchmark without Node (for GPU machines and lab servers where only libtorch is
// present): the same figures as `npm run bench:native`, measured on the core directly.
// Usage: histoscope_native_bench [device=auto] [precision=fp32] [iterations=5]
// Prints one JSON object per line; bench/reference.py gives PyTorch's figures to compare.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <torch/cuda.h>

#include "core/classifier.h"
#include "core/runtime.h"

using namespace histoscope;

namespace {

void synchronize(const c10::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize();
}

template <typename Fn>
double secondsPerCall(Fn&& fn, int iterations, int warmup, const c10::Device& device) {
  for (int i = 0; i < warmup; ++i) fn();
  synchronize(device);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < iterations; ++i) fn();
  synchronize(device);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / iterations;
}

}  // namespace

int main(int argc, char** argv) {
  configureRuntime(0);
  ClassifierOptions options;
  options.device = argc > 1 ? argv[1] : "auto";
  options.precision = parsePrecision(argc > 2 ? argv[2] : "fp32");
  const int iterations = argc > 3 ? std::stoi(argv[3]) : 5;
  Classifier classifier(options);
  const auto device = classifier.device();

  const int64_t batch_size = 32, size = 224;
  std::vector<uint8_t> pixels(batch_size * size * size * 3);
  uint32_t state = 1;
  for (auto& p : pixels) {
    state = state * 1664525u + 1013904223u;
    p = static_cast<uint8_t>(state >> 24);
  }
  std::vector<int64_t> labels(batch_size);
  for (int64_t i = 0; i < batch_size; ++i) labels[i] = i % 2;
  ImageBatchView batch{pixels.data(), batch_size, size, size};
  ImageBatchView single{pixels.data(), 1, size, size};
  AugmentOptions augment;

  const double train = secondsPerCall([&] {
    augment.seed++;
    classifier.trainStep(batch, labels, {1.5, 0.75}, &augment);
  }, iterations, 2, device);
  const double infer = secondsPerCall([&] { classifier.predict(batch); }, iterations, 2, device);
  const double infer1 = secondsPerCall([&] { classifier.predict(single); }, iterations * 4, 2, device);
  const double cam = secondsPerCall([&] { classifier.gradcam(single, -1); }, iterations * 4, 2, device);

  std::printf(
      "{\"implementation\": \"Histoscope core (libtorch %s, %s)\", \"precision\": \"%s\", "
      "\"threads\": %d, \"trainImagesPerSecond\": %.3f, \"inferImagesPerSecond\": %.3f, "
      "\"inferBatch1ImagesPerSecond\": %.3f, \"gradcamMilliseconds\": %.3f}\n",
      libtorchVersion().c_str(), device.str().c_str(), toString(options.precision).c_str(),
      threadCount(), batch_size / train, batch_size / infer, 1 / infer1, cam * 1000);
  return 0;
}
