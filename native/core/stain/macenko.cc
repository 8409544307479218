#include "core/stain/macenko.h"

#include <cmath>

#include "core/stain/color_space.h"
#include "core/stain/masked_quantile.h"

namespace histoscope {
namespace {

constexpr double kAnglePercentile = 0.01;  // Macenko's alpha = 1%
constexpr double kMaxConcentrationPercentile = 0.99;
// sin^2 of the angle between the two stain vectors: below ~2 degrees they are one colour.
constexpr double kMinStainSeparation = 1e-3;
constexpr double kMinConcentration = 1e-3;

// [N, 3] rows scaled by +-1 so that `reference(v) >= 0`.
torch::Tensor withSign(const torch::Tensor& v, const torch::Tensor& reference) {
  return v * torch::where(reference < 0, -torch::ones_like(reference), torch::ones_like(reference)).unsqueeze(1);
}

// Least-squares concentrations of od rows [N, P, 3] in stain matrices [N, 3, 2]; also returns
// det(HE^T HE) [N], small when the two stains are (nearly) the same colour.
torch::Tensor leastSquares(const torch::Tensor& od, const torch::Tensor& he, torch::Tensor* det) {
  auto gram = torch::matmul(he.transpose(1, 2), he);  // [N, 2, 2]
  auto a = gram.select(1, 0).select(1, 0), b = gram.select(1, 0).select(1, 1);
  auto d = gram.select(1, 1).select(1, 1);
  *det = a * d - b * b;
  auto safe = det->clamp_min(1e-12);
  auto inverse = torch::stack({torch::stack({d, -b}, 1), torch::stack({-b, a}, 1)}, 1) / safe.view({-1, 1, 1});
  return torch::matmul(torch::matmul(od, he), inverse);  // inverse is symmetric
}

}  // namespace

MacenkoFit fitMacenko(const torch::Tensor& images) {
  auto rgb = toPixelRows(images.to(torch::kFloat32));
  const auto n = rgb.size(0), pixels = rgb.size(1);
  auto od = rgbToOpticalDensity(rgb);  // [N, P, 3]
  auto tissue = tissueMask(rgb);  // [N, P]: Macenko's beta = 0.15
  auto count = tissue.sum(1);  // int64 [N]

  // Covariance of the tissue pixels' OD (as np.cov, n - 1), in float64 for the eigensolver.
  auto od64 = od.to(torch::kFloat64);
  auto weight = tissue.to(torch::kFloat64).unsqueeze(2);
  auto count64 = count.to(torch::kFloat64).clamp_min(2).view({n, 1, 1});
  auto mean = (od64 * weight).sum(1, true) / count64;
  auto centred = (od64 - mean) * weight;
  auto covariance = torch::matmul(centred.transpose(1, 2), centred) / (count64 - 1);
  auto eigen = torch::linalg_eigh(covariance, "L");  // ascending eigenvalues
  auto vectors = std::get<1>(eigen);
  // Sign conventions make the angles well defined: the principal direction points into positive
  // OD (tissue projects to x > 0, so angles stay inside (-pi/2, pi/2)); the second has red >= 0.
  auto principal = vectors.select(2, 2);
  principal = withSign(principal, principal.sum(1)).to(torch::kFloat32);
  auto second = vectors.select(2, 1);
  second = withSign(second, second.select(1, 0)).to(torch::kFloat32);

  // Per-pixel work in float32: only the covariance's sums need float64.
  auto x = torch::matmul(od, principal.unsqueeze(2)).squeeze(2);
  auto y = torch::matmul(od, second.unsqueeze(2)).squeeze(2);
  auto angle = torch::atan2(y, x);
  auto limits = maskedQuantiles(angle, tissue, {kAnglePercentile, 1 - kAnglePercentile});  // [N, 2]
  auto direction = [&](const torch::Tensor& phi) {
    return principal * torch::cos(phi).unsqueeze(1) + second * torch::sin(phi).unsqueeze(1);
  };
  auto low = direction(limits.select(1, 0)), high = direction(limits.select(1, 1));
  // Haematoxylin absorbs more red than eosin does: it is the vector with the larger red OD.
  auto low_is_h = (low.select(1, 0) > high.select(1, 0)).unsqueeze(1);
  auto h = torch::where(low_is_h, low, high), e = torch::where(low_is_h, high, low);
  auto he = torch::stack({h, e}, 2);  // [N, 3, 2]

  torch::Tensor det;
  auto concentrations = leastSquares(od, he, &det);
  auto everything = torch::ones({n, pixels}, torch::dtype(torch::kBool).device(od.device()));
  auto max_c = torch::stack({maskedQuantile(concentrations.select(2, 0), everything, kMaxConcentrationPercentile),
                             maskedQuantile(concentrations.select(2, 1), everything, kMaxConcentrationPercentile)},
                            1);

  auto valid = (count >= minTissuePixels(pixels)) & (det > kMinStainSeparation) & (max_c > kMinConcentration).all(1) &
               torch::isfinite(he).all(2).all(1) & torch::isfinite(max_c).all(1);
  return {he.to(torch::kFloat32), max_c.to(torch::kFloat32), concentrations.to(torch::kFloat32), count, valid};
}

torch::Tensor applyMacenko(const torch::Tensor& images, const StainTarget& target,
                           torch::Tensor* fallback) {
  auto fit = fitMacenko(images);
  const auto& s = target.stain_matrix;
  auto target_he = torch::tensor({s[0], s[3], s[1], s[4], s[2], s[5]}, torch::kFloat64)
                       .view({3, 2}).to(torch::kFloat32).to(images.device());
  auto target_max = torch::tensor({target.max_concentrations[0], target.max_concentrations[1]}, torch::kFloat64)
                        .to(torch::kFloat32).to(images.device());
  auto scale = target_max.unsqueeze(0) / fit.max_concentrations.clamp_min(kMinConcentration);  // [N, 2]
  auto od = torch::matmul(fit.concentrations * scale.unsqueeze(1), target_he.t());  // [N, P, 3]
  auto normalised = fromPixelRows(opticalDensityToRgb(od), images.sizes());
  auto valid = fit.valid.view({-1, 1, 1, 1});
  if (fallback) *fallback = fit.valid.logical_not();
  return torch::where(valid, normalised, images.to(torch::kFloat32));
}

}  // namespace histoscope
