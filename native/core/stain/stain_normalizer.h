// The one entry to stain normalisation: fit a target, normalise a batch to it.
#pragma once

#include <torch/types.h>

#include "core/stain/stain_target.h"

namespace histoscope {

// Fits `method` to all of `images` (float [N, 3, H, W] in [0, 1]) pooled as one picture, so a
// sample of a training split gives one target. Throws when the images hold too little tissue.
StainTarget fitStainTarget(StainMethod method, const torch::Tensor& images);

struct StainNormalized {
  torch::Tensor images;    // float [N, 3, H, W] in [0, 1]
  torch::Tensor fallback;  // bool [N]: left unchanged (no tissue, one colour, blank)
};

// A target of method none returns the images as they are, with no fallbacks.
StainNormalized normalizeStain(const torch::Tensor& images, const StainTarget& target);

}  // namespace histoscope
