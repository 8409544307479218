#include "core/stain/masked_quantile.h"

#include <limits>

namespace histoscope {

torch::Tensor maskedQuantiles(const torch::Tensor& values, const torch::Tensor& mask,
                              const std::vector<double>& qs) {
  // Values outside the mask sort to the end as +inf, so the first `count` sorted values of a row
  // are exactly its masked values in order.
  auto filled = values.masked_fill(mask.logical_not(), std::numeric_limits<float>::infinity());
  auto sorted = std::get<0>(filled.sort(1));
  auto count = mask.sum(1).to(values.scalar_type());  // [N]
  auto last = (count - 1).clamp_min(0);
  std::vector<torch::Tensor> columns;
  for (double q : qs) {
    auto position = last * q;
    auto below = position.floor();
    auto above = (below + 1).minimum(last);
    auto fraction = (position - below).unsqueeze(1);
    auto low = sorted.gather(1, below.to(torch::kInt64).unsqueeze(1));
    auto high = sorted.gather(1, above.to(torch::kInt64).unsqueeze(1));
    auto value = low + (high - low) * fraction;
    // An empty row has no quantile: NaN, which callers turn into a fallback.
    value = value.masked_fill((count < 1).unsqueeze(1), std::numeric_limits<float>::quiet_NaN());
    columns.push_back(value);
  }
  return torch::cat(columns, 1);
}

torch::Tensor maskedQuantile(const torch::Tensor& values, const torch::Tensor& mask, double q) {
  return maskedQuantiles(values, mask, {q}).squeeze(1);
}

}  // namespace histoscope
