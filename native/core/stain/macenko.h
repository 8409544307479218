// Macenko et al. 2009, "A method for normalizing histology slides for quantitative analysis":
// stain vectors from the optical-density plane of the two largest principal directions, at the
// 1st and 99th percentile angles of the tissue pixels; concentrations by least squares.
#pragma once

#include <torch/types.h>

#include "core/stain/stain_target.h"

namespace histoscope {

struct MacenkoFit {
  torch::Tensor stain_matrix;        // [N, 3, 2]: columns haematoxylin, eosin (unit OD vectors)
  torch::Tensor max_concentrations;  // [N, 2]: 99th percentile of each stain's concentration
  torch::Tensor concentrations;      // [N, P, 2] of every pixel
  torch::Tensor tissue_pixels;       // [N] int64: pixels with OD > 0.15 in every channel
  torch::Tensor valid;               // [N] bool: enough tissue and two distinct stains
};

// images: float [N, 3, H, W] in [0, 1]. One fit per image, computed together.
MacenkoFit fitMacenko(const torch::Tensor& images);

// Each valid image's concentrations rescaled to the target's maxima and recombined with the
// target's stain vectors; invalid images are returned unchanged and flagged in `fallback`.
torch::Tensor applyMacenko(const torch::Tensor& images, const StainTarget& target,
                           torch::Tensor* fallback);

}  // namespace histoscope
