#include "core/stain/color_space.h"

#include <algorithm>

namespace histoscope {
namespace {

// sRGB (linear) to XYZ, D65, as skimage's xyz_from_rgb.
const double kXyzFromRgb[3][3] = {{0.412453, 0.357580, 0.180423},
                                  {0.212671, 0.715160, 0.072169},
                                  {0.019334, 0.119193, 0.950227}};
const double kWhiteD65[3] = {0.95047, 1.0, 1.08883};

torch::Tensor matrixOn(const torch::Tensor& like, bool inverse) {
  auto m = torch::empty({3, 3}, torch::kFloat64);
  auto a = m.accessor<double, 2>();
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) a[i][j] = kXyzFromRgb[i][j];
  if (inverse) m = torch::inverse(m);
  return m.to(like.options());
}

torch::Tensor whiteOn(const torch::Tensor& like) {
  return torch::tensor({kWhiteD65[0], kWhiteD65[1], kWhiteD65[2]}, torch::kFloat64).to(like.options());
}

}  // namespace

torch::Tensor rgbToOpticalDensity(const torch::Tensor& rgb) {
  return -torch::log((rgb * 255.0 + 1.0) / 256.0);
}

torch::Tensor opticalDensityToRgb(const torch::Tensor& od) {
  return ((torch::exp(-od) * 256.0 - 1.0) / 255.0).clamp(0.0, 1.0);
}

torch::Tensor tissueMask(const torch::Tensor& rgb) {
  return (rgbToOpticalDensity(rgb) > 0.15).all(-1);
}

int64_t minTissuePixels(int64_t pixels) {
  return std::max<int64_t>(16, (pixels + 99) / 100);
}

torch::Tensor rgbToLab(const torch::Tensor& rgb) {
  auto linear = torch::where(rgb > 0.04045, ((rgb + 0.055) / 1.055).pow(2.4), rgb / 12.92);
  auto xyz = torch::matmul(linear, matrixOn(rgb, false).t()) / whiteOn(rgb);
  auto f = torch::where(xyz > 0.008856, xyz.clamp_min(0.008856).pow(1.0 / 3.0), xyz * 7.787 + 16.0 / 116.0);
  auto fx = f.select(-1, 0), fy = f.select(-1, 1), fz = f.select(-1, 2);
  return torch::stack({fy * 116.0 - 16.0, (fx - fy) * 500.0, (fy - fz) * 200.0}, -1);
}

torch::Tensor labToRgb(const torch::Tensor& lab) {
  auto fy = (lab.select(-1, 0) + 16.0) / 116.0;
  auto fx = lab.select(-1, 1) / 500.0 + fy;
  auto fz = (fy - lab.select(-1, 2) / 200.0).clamp_min(0.0);  // skimage clips negative z too
  auto f = torch::stack({fx, fy, fz}, -1);
  auto xyz = torch::where(f > 0.2068966, f.pow(3.0), (f - 16.0 / 116.0) / 7.787) * whiteOn(lab);
  auto linear = torch::matmul(xyz, matrixOn(lab, true).t()).clamp_min(0.0);
  auto rgb = torch::where(linear > 0.0031308, linear.pow(1.0 / 2.4) * 1.055 - 0.055, linear * 12.92);
  return rgb.clamp(0.0, 1.0);
}

torch::Tensor toPixelRows(const torch::Tensor& images) {
  return images.permute({0, 2, 3, 1}).reshape({images.size(0), -1, 3});
}

torch::Tensor fromPixelRows(const torch::Tensor& rows, const torch::IntArrayRef& image_sizes) {
  return rows.reshape({image_sizes[0], image_sizes[2], image_sizes[3], 3}).permute({0, 3, 1, 2}).contiguous();
}

}  // namespace histoscope
