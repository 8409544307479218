// Colour spaces of stain work on float RGB in [0, 1], channels last ([..., 3]), on any device.
#pragma once

#include <torch/types.h>

namespace histoscope {

// Optical density as Macenko et al. use it, with 8-bit intensities offset by one so black stays
// finite: OD = -ln((255 I + 1) / 256). White (I = 1) has OD 0. The inverse is exact.
torch::Tensor rgbToOpticalDensity(const torch::Tensor& rgb);
torch::Tensor opticalDensityToRgb(const torch::Tensor& od);  // clamped to [0, 1]

// CIELAB under D65 from sRGB (gamma-encoded), the same formulas as skimage.color.rgb2lab.
torch::Tensor rgbToLab(const torch::Tensor& rgb);
torch::Tensor labToRgb(const torch::Tensor& lab);  // clamped to [0, 1]

// Channels-first batches [N, 3, H, W] <-> pixel rows [N, H*W, 3].
torch::Tensor toPixelRows(const torch::Tensor& images);
torch::Tensor fromPixelRows(const torch::Tensor& rows, const torch::IntArrayRef& image_sizes);

}  // namespace histoscope
