#include "core/stain/reinhard.h"

#include "core/stain/color_space.h"

namespace histoscope {
namespace {

// Below this spread (in LAB units; tissue has several) a channel is flat: dividing by it would
// blow noise up into colour.
constexpr double kMinLabStd = 0.5;

// Statistics of every pixel (Reinhard's transfer is global); valid only where there is tissue to
// speak of (the same test as Macenko's) and every channel varies.
ReinhardFit fitLab(const torch::Tensor& rgb, const torch::Tensor& lab) {
  auto mean = lab.mean(1);
  auto std = (lab - mean.unsqueeze(1)).pow(2).mean(1).sqrt();
  auto tissue = tissueMask(rgb).sum(1) >= minTissuePixels(rgb.size(1));
  auto valid = tissue & (std > kMinLabStd).all(1) & torch::isfinite(mean).all(1) & torch::isfinite(std).all(1);
  return {mean, std, valid};
}

}  // namespace

ReinhardFit fitReinhard(const torch::Tensor& images) {
  auto rgb = toPixelRows(images.to(torch::kFloat32));
  return fitLab(rgb, rgbToLab(rgb));
}

torch::Tensor applyReinhard(const torch::Tensor& images, const StainTarget& target,
                            torch::Tensor* fallback) {
  auto rgb = toPixelRows(images.to(torch::kFloat32));
  auto lab = rgbToLab(rgb);
  auto fit = fitLab(rgb, lab);
  auto to = [&](const std::array<double, 3>& v) {
    return torch::tensor({v[0], v[1], v[2]}, torch::kFloat64).to(torch::kFloat32).to(images.device()).view({1, 1, 3});
  };
  auto moved = (lab - fit.mean.unsqueeze(1)) / fit.std.clamp_min(kMinLabStd).unsqueeze(1) * to(target.lab_std) +
               to(target.lab_mean);
  auto normalised = fromPixelRows(labToRgb(moved), images.sizes());
  if (fallback) *fallback = fit.valid.logical_not();
  return torch::where(fit.valid.view({-1, 1, 1, 1}), normalised, images.to(torch::kFloat32));
}

}  // namespace histoscope
