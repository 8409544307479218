#include "core/stain/hed_jitter.h"

#include <cmath>
#include <random>

#include "core/stain/color_space.h"

namespace histoscope {
namespace {

// skimage.color's rgb_from_hed (Ruifrok & Johnston); hed_from_rgb is its inverse.
const double kRgbFromHed[3][3] = {{0.65, 0.70, 0.29}, {0.07, 0.99, 0.11}, {0.27, 0.57, 0.78}};

// Uniform in [0, 1) from 53 bits: identical across standard libraries, unlike uniform_real_distribution.
double unit(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

}  // namespace

torch::Tensor hedJitterFactors(int64_t count, double strength, uint64_t seed,
                               const std::vector<uint64_t>& sample_seeds) {
  if (!sample_seeds.empty() && static_cast<int64_t>(sample_seeds.size()) != count) {
    throw std::invalid_argument("Got " + std::to_string(sample_seeds.size()) + " HED jitter seeds for " +
                                std::to_string(count) + " images.");
  }
  std::mt19937_64 rng(seed);
  auto factors = torch::empty({count, 6}, torch::kFloat64);
  auto f = factors.accessor<double, 2>();
  for (int64_t i = 0; i < count; ++i) {
    if (!sample_seeds.empty()) rng.seed(sample_seeds[i]);
    for (int c = 0; c < 3; ++c) f[i][c] = 1 + strength * (2 * unit(rng) - 1);
    for (int c = 0; c < 3; ++c) f[i][3 + c] = strength * (2 * unit(rng) - 1);
  }
  return factors;
}

torch::Tensor jitterHed(const torch::Tensor& images, double strength, uint64_t seed,
                        const std::vector<uint64_t>& sample_seeds) {
  if (!(strength >= 0) || !std::isfinite(strength)) {
    throw std::invalid_argument("HED jitter strength must be a finite number >= 0.");
  }
  const auto n = images.size(0);
  auto factors = hedJitterFactors(n, strength, seed, sample_seeds).to(torch::kFloat32).to(images.device());
  auto rgb_from_hed = torch::empty({3, 3}, torch::kFloat64);
  auto m = rgb_from_hed.accessor<double, 2>();
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) m[i][j] = kRgbFromHed[i][j];
  auto hed_from_rgb = torch::inverse(rgb_from_hed).to(torch::kFloat32).to(images.device());
  auto forward = rgb_from_hed.to(torch::kFloat32).to(images.device());

  auto rgb = toPixelRows(images.to(torch::kFloat32));  // [N, P, 3]
  // Densities in natural-log optical density, as rgb2hed gave them before skimage 0.19 rescaled
  // them (and as Tellez et al.'s ranges assume): shifts of 0.05 are mild there.
  auto hed = torch::matmul(-torch::log(rgb.clamp_min(1e-6)), hed_from_rgb);
  auto scale = factors.narrow(1, 0, 3).unsqueeze(1), shift = factors.narrow(1, 3, 3).unsqueeze(1);
  auto change = hed * (scale - 1) + shift;  // exactly 0 at strength 0
  // hed2rgb(hed + change) = exp(-(hed + change) @ M) = rgb * exp(-change @ M)
  auto jittered = rgb * torch::exp(-torch::matmul(change, forward));
  return fromPixelRows(jittered.clamp(0.0, 1.0), images.sizes());
}

}  // namespace histoscope
