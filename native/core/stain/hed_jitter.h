// Stain augmentation in HED space (Tellez et al. 2019, "Quantifying the effects of data
// augmentation and stain color normalization..."): each image's haematoxylin, eosin and DAB
// optical densities, separated with skimage.color's rgb_from_hed (Ruifrok & Johnston), scaled by
// U(1 - s, 1 + s) and shifted by U(-s, s), then recombined.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/types.h>

namespace histoscope {

// images: float [N, 3, H, W] in [0, 1]. Factors are drawn per image on the host from `seed`, so the
// same seed gives the same jitter on any device. Strength 0 returns the images bit for bit: the
// change is applied as a multiplicative factor that is exactly 1 there (and rgb2hed's clip of
// negative densities is left out so that the round trip is exact). With `sample_seeds` (one per
// image) image i's factors come from its own seed instead, so they do not depend on which batch
// or rank the image lands in (distributed training).
torch::Tensor jitterHed(const torch::Tensor& images, double strength, uint64_t seed,
                        const std::vector<uint64_t>& sample_seeds = {});

// The per-image factors jitterHed draws: [N, 6] = scale H, E, D then shift H, E, D (CPU, float64).
torch::Tensor hedJitterFactors(int64_t count, double strength, uint64_t seed,
                               const std::vector<uint64_t>& sample_seeds = {});

}  // namespace histoscope
