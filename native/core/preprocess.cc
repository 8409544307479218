#include "core/preprocess.h"

#include <cmath>
#include <random>
#include <stdexcept>

#include <torch/nn/functional/vision.h>
#include <torch/nn/functional/upsampling.h>

namespace histoscope {
namespace F = torch::nn::functional;

RotationFill parseRotationFill(const std::string& name) {
  if (name == "reflection") return RotationFill::kReflection;
  if (name == "border") return RotationFill::kBorder;
  if (name == "black") return RotationFill::kBlack;
  if (name == "white") return RotationFill::kWhite;
  throw std::invalid_argument("Unknown rotation fill '" + name +
                              "'. Expected 'reflection', 'border', 'black' or 'white'.");
}

torch::Tensor pixelsOnDevice(const ImageBatchView& batch, const c10::Device& device) {
  if (!batch.data || batch.count <= 0 || batch.height <= 0 || batch.width <= 0) {
    throw std::invalid_argument("Empty image batch: expected at least one image of at least 1x1.");
  }
  // from_blob does not copy; to() copies to the device (or clones on the CPU) before the caller's
  // buffer can go away.
  auto pixels = torch::from_blob(const_cast<uint8_t*>(batch.data),
                                 {batch.count, batch.height, batch.width, 3}, torch::kUInt8);
  return pixels.to(device, /*non_blocking=*/false, /*copy=*/true);
}

torch::Tensor toFloatImages(const torch::Tensor& pixels, int64_t size) {
  auto images = pixels.permute({0, 3, 1, 2}).to(torch::kFloat32).div_(255.0);
  if (pixels.size(1) != size || pixels.size(2) != size) {
    images = F::interpolate(images, F::InterpolateFuncOptions()
                                        .size(std::vector<int64_t>{size, size})
                                        .mode(torch::kBilinear)
                                        .align_corners(false));
  }
  return images.contiguous();
}

namespace {

struct ImagePlan {
  bool flip_h = false, flip_v = false;
  int quarter_turns = 0;
  double degrees = 0;
};

torch::Tensor rotateByAngles(const torch::Tensor& images, const std::vector<double>& degrees,
                             RotationFill fill) {
  const auto n = images.size(0);
  auto theta = torch::zeros({n, 2, 3}, torch::kFloat32);
  auto t = theta.accessor<float, 3>();
  for (int64_t i = 0; i < n; ++i) {
    const double r = degrees[i] * M_PI / 180.0;
    t[i][0][0] = static_cast<float>(std::cos(r));
    t[i][0][1] = static_cast<float>(-std::sin(r));
    t[i][1][0] = static_cast<float>(std::sin(r));
    t[i][1][1] = static_cast<float>(std::cos(r));
  }
  theta = theta.to(images.device());
  auto grid = F::affine_grid(theta, images.sizes(), /*align_corners=*/false);
  auto sample = [&](const torch::Tensor& input, F::GridSampleFuncOptions::padding_mode_t mode) {
    return F::grid_sample(input, grid,
                          F::GridSampleFuncOptions().mode(torch::kBilinear).padding_mode(mode)
                              .align_corners(false));
  };
  switch (fill) {
    case RotationFill::kReflection:
      return sample(images, torch::kReflection);
    case RotationFill::kBorder:
      return sample(images, torch::kBorder);
    case RotationFill::kBlack:
      return sample(images, torch::kZeros);
    case RotationFill::kWhite: {
      // Rotate a mask of ones alongside: where it is < 1 the pixel came (partly) from outside.
      auto rotated = sample(images, torch::kZeros);
      auto coverage = sample(torch::ones_like(images.narrow(1, 0, 1)), torch::kZeros);
      return rotated + (1.0 - coverage);
    }
  }
  return images;
}

}  // namespace

torch::Tensor augmentImages(const torch::Tensor& images, const AugmentOptions& options) {
  const auto n = images.size(0);
  if (options.right_angle_rotation && images.size(2) != images.size(3)) {
    throw std::invalid_argument("Right-angle rotation needs square images, got " +
                                std::to_string(images.size(3)) + "x" + std::to_string(images.size(2)) + ".");
  }
  std::mt19937_64 rng(options.seed);
  std::uniform_int_distribution<int> coin(0, 1), quarter(0, 3);
  std::uniform_real_distribution<double> angle(-options.max_rotation_degrees,
                                               options.max_rotation_degrees);
  if (!options.sample_seeds.empty() && static_cast<int64_t>(options.sample_seeds.size()) != n) {
    throw std::invalid_argument("Got " + std::to_string(options.sample_seeds.size()) + " augmentation seeds for " +
                                std::to_string(n) + " images.");
  }
  std::vector<ImagePlan> plans(n);
  for (int64_t i = 0; i < n; ++i) {
    auto& plan = plans[i];
    if (!options.sample_seeds.empty()) rng.seed(options.sample_seeds[i]);
    // Always draw every decision so one option does not shift the others' random stream.
    plan.flip_h = coin(rng) && options.horizontal_flip;
    plan.flip_v = coin(rng) && options.vertical_flip;
    const int k = quarter(rng);
    plan.quarter_turns = options.right_angle_rotation ? k : 0;
    const double a = angle(rng);
    plan.degrees = options.max_rotation_degrees > 0 ? a : 0;
  }

  // Images sharing a (flip, flip, quarter turns) plan are transformed together: at most 16 groups
  // of batched kernels instead of 3 small kernels per image, which a GPU at batch 256 notices.
  // Quarter turns keep the shape because the images are square here (resized to size x size).
  std::vector<std::vector<int64_t>> groups(16);
  for (int64_t i = 0; i < n; ++i) {
    const auto& p = plans[i];
    groups[(p.flip_h ? 8 : 0) + (p.flip_v ? 4 : 0) + p.quarter_turns].push_back(i);
  }
  auto result = images;
  if (groups[0].size() != static_cast<size_t>(n)) {
    result = images.clone();
    for (int key = 1; key < 16; ++key) {
      if (groups[key].empty()) continue;
      auto index = torch::tensor(groups[key], torch::kInt64).to(images.device());
      auto group = images.index_select(0, index);
      if (key & 8) group = group.flip({3});
      if (key & 4) group = group.flip({2});
      if (key & 3) group = group.rot90(key & 3, {2, 3});
      result.index_copy_(0, index, group.contiguous());
    }
  }
  if (options.max_rotation_degrees > 0) {
    std::vector<double> degrees(n);
    for (int64_t i = 0; i < n; ++i) degrees[i] = plans[i].degrees;
    result = rotateByAngles(result, degrees, options.fill);
  }
  return result.contiguous();
}

torch::Tensor normalizeImageNet(const torch::Tensor& images) {
  auto opts = images.options();
  auto mean = torch::tensor({0.485f, 0.456f, 0.406f}).to(opts).view({1, 3, 1, 1});
  auto std = torch::tensor({0.229f, 0.224f, 0.225f}).to(opts).view({1, 3, 1, 1});
  return (images - mean) / std;
}

}  // namespace histoscope
