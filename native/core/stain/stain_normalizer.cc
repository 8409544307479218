#include "core/stain/stain_normalizer.h"

#include <stdexcept>

#include "core/stain/macenko.h"
#include "core/stain/reinhard.h"

namespace histoscope {
namespace {

// [N, 3, H, W] -> [1, 3, 1, N*H*W]: every pixel of every image in one picture.
torch::Tensor pooled(const torch::Tensor& images) {
  return images.to(torch::kFloat32).permute({1, 0, 2, 3}).reshape({1, 3, 1, -1});
}

std::array<double, 3> row3(const torch::Tensor& t) {
  auto c = t.to(torch::kCPU).to(torch::kFloat64).contiguous();
  auto a = c.accessor<double, 1>();
  return {a[0], a[1], a[2]};
}

}  // namespace

StainTarget fitStainTarget(StainMethod method, const torch::Tensor& images) {
  if (images.dim() != 4 || images.size(1) != 3 || images.numel() == 0) {
    throw std::invalid_argument("Fitting a stain target needs at least one RGB image.");
  }
  StainTarget target;
  target.method = method;
  if (method == StainMethod::kMacenko) {
    auto fit = fitMacenko(pooled(images));
    if (!fit.valid[0].item<bool>()) {
      throw std::invalid_argument(
          "The stain reference holds too little tissue for a Macenko target (" +
          std::to_string(fit.tissue_pixels[0].item<int64_t>()) + " of " +
          std::to_string(images.numel() / 3) +
          " pixels have optical density over 0.15 in every channel, or H and E are one colour). "
          "Choose a reference image with stained tissue.");
    }
    auto he = fit.stain_matrix[0].to(torch::kCPU).to(torch::kFloat64).contiguous();
    auto h = he.accessor<double, 2>();
    for (int c = 0; c < 3; ++c) {
      target.stain_matrix[c] = h[c][0];
      target.stain_matrix[3 + c] = h[c][1];
    }
    auto max_c = fit.max_concentrations[0].to(torch::kCPU).to(torch::kFloat64);
    target.max_concentrations = {max_c[0].item<double>(), max_c[1].item<double>()};
  } else if (method == StainMethod::kReinhard) {
    auto fit = fitReinhard(pooled(images));
    if (!fit.valid[0].item<bool>()) {
      throw std::invalid_argument(
          "The stain reference is blank or (nearly) one colour: a Reinhard target needs stained "
          "tissue (1% of pixels with optical density over 0.15 in every channel) and colour variation. "
          "Choose a reference image with stained tissue.");
    }
    target.lab_mean = row3(fit.mean[0]);
    target.lab_std = row3(fit.std[0]);
  }
  return target;
}

StainNormalized normalizeStain(const torch::Tensor& images, const StainTarget& target) {
  StainNormalized out;
  switch (target.method) {
    case StainMethod::kMacenko:
      out.images = applyMacenko(images, target, &out.fallback);
      break;
    case StainMethod::kReinhard:
      out.images = applyReinhard(images, target, &out.fallback);
      break;
    case StainMethod::kNone:
      out.images = images;
      out.fallback = torch::zeros({images.size(0)}, torch::dtype(torch::kBool).device(images.device()));
      break;
  }
  return out;
}

}  // namespace histoscope
