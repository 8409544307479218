// Colour spaces of stain work on float RGB in [0, 1], channels last ([..., 3]), on any device.
#pragma once

#include <torch/types.h>

namespace histoscope {

// Optical density as Macenko et al. use it, with 8-bit intensities offset by one so black stays
// finite: OD = -ln((255 I + 1) / 256). White (I = 1) has OD 0. The inverse is exact.
torch::Tensor rgbToOpticalDensity(const torch::Tensor& rgb);
torch::Tensor opticalDensityToRgb(const torch::Tensor& od);  // clamped to [0, 1]

// Tissue, as Macenko et al. define it: optical density above 0.15 in every channel (each channel
// darker than about 86% of white). rgb [..., P, 3] -> bool [..., P].
torch::Tensor tissueMask(const torch::Tensor& rgb);
// Fewer tissue pixels than this (1% of the image, at least 16) is no stain to measure.
int64_t minTissuePixels(int64_t pixels);

// CIELAB under D65 from sRGB (gamma-encoded), the same formulas as skimage.color.rgb2lab.
torch::Tensor rgbToLab(const torch::Tensor& rgb);
torch::Tensor labToRgb(const torch::Tensor& lab);  // clamped to [0, 1]

// Channels-first batches [N, 3, H, W] <-> pixel rows [N, H*W, 3].
torch::Tensor toPixelRows(const torch::Tensor& images);
torch::Tensor fromPixelRows(const torch::Tensor& rows, const torch::IntArrayRef& image_sizes);

}  // namespace histoscope
