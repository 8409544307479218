// Reinhard et al. 2001, "Color transfer between images", in CIELAB: each channel's mean and
// standard deviation moved to the target's.
#pragma once

#include <torch/types.h>

#include "core/stain/stain_target.h"

namespace histoscope {

struct ReinhardFit {
  torch::Tensor mean;   // [N, 3] L, a, b
  torch::Tensor std;    // [N, 3] population standard deviation
  torch::Tensor valid;  // [N] bool: tissue present and every channel varies (else nothing to move)
};

// images: float [N, 3, H, W] in [0, 1].
ReinhardFit fitReinhard(const torch::Tensor& images);

// Invalid images are returned unchanged and flagged in `fallback`.
torch::Tensor applyReinhard(const torch::Tensor& images, const StainTarget& target,
                            torch::Tensor* fallback);

}  // namespace histoscope
