// Per-row quantiles over a subset of each row's values, batched: what np.percentile(x[mask], q)
// gives for each image, without a loop over images.
#pragma once

#include <torch/types.h>

namespace histoscope {

// values [N, P] float, mask [N, P] bool, q in [0, 1]. Linear interpolation between order
// statistics (numpy's default). Rows whose mask is empty get NaN.
torch::Tensor maskedQuantile(const torch::Tensor& values, const torch::Tensor& mask, double q);

// The same for several quantiles of one sort: [N, Q].
torch::Tensor maskedQuantiles(const torch::Tensor& values, const torch::Tensor& mask,
                              const std::vector<double>& qs);

}  // namespace histoscope
