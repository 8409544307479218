// Stain normalisation and HED jitter in the core: the maths on images whose answer is known by
// construction (two stains with set optical densities), the fallbacks, and the target's place in
// the checkpoint. Numerical agreement with an independent numpy implementation on real tissue is
// tested from TypeScript (test/stain/stain-reference.test.ts).
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include <torch/torch.h>

#include "core/classifier.h"
#include "core/stain/color_space.h"
#include "core/stain/hed_jitter.h"
#include "core/stain/macenko.h"
#include "core/stain/masked_quantile.h"
#include "core/stain/reinhard.h"
#include "core/stain/stain_normalizer.h"
#include "harness.h"

using namespace histoscope;

namespace {

c10::Device testDevice() {
  const char* device = std::getenv("HISTOSCOPE_TEST_DEVICE");
  return c10::Device(device ? device : "cpu");
}

torch::Tensor unit(std::vector<double> v) {
  auto t = torch::tensor(v, torch::kFloat64);
  return t / t.norm();
}

// A [1, 3, size, size] image made of two stains with known unit OD vectors: a tenth of the pixels
// pure haematoxylin, a tenth pure eosin, the rest mixtures, over a little white background.
torch::Tensor twoStainImage(const torch::Tensor& h, const torch::Tensor& e, int64_t size, uint64_t seed) {
  torch::manual_seed(seed);
  const int64_t n = size * size;
  auto ch = torch::rand({n}, torch::kFloat64) * 1.2 + 0.3;
  auto ce = torch::rand({n}, torch::kFloat64) * 1.0 + 0.3;
  auto kind = torch::rand({n}, torch::kFloat64);
  ce = torch::where(kind < 0.1, torch::zeros_like(ce), ce);
  ch = torch::where((kind >= 0.1) & (kind < 0.2), torch::zeros_like(ch), ch);
  auto background = kind > 0.95;
  ch = torch::where(background, torch::zeros_like(ch), ch);
  ce = torch::where(background, torch::zeros_like(ce), ce);
  auto od = ch.unsqueeze(1) * h.unsqueeze(0) + ce.unsqueeze(1) * e.unsqueeze(0);  // [n, 3]
  auto rgb = opticalDensityToRgb(od).to(torch::kFloat32);
  return rgb.view({1, size, size, 3}).permute({0, 3, 1, 2}).contiguous().to(testDevice());
}

double angleDegrees(const torch::Tensor& a, const torch::Tensor& b) {
  auto cosine = (a * b).sum() / (a.norm() * b.norm());
  return std::acos(std::min(1.0, cosine.item<double>())) * 180.0 / M_PI;
}

}  // namespace

TEST_CASE("masked quantiles interpolate like numpy.percentile over the masked values") {
  auto values = torch::tensor({{5.f, 1.f, 9.f, 3.f, 7.f}, {2.f, 8.f, 4.f, 6.f, 0.f}});
  auto mask = torch::tensor({{true, true, false, true, true}, {false, false, false, false, false}});
  auto q = maskedQuantiles(values, mask, {0.0, 0.25, 0.5, 1.0});
  // Row 0 masked values sorted: 1 3 5 7 -> positions 0, 0.75, 1.5, 3.
  CHECK_MSG(std::abs(q[0][0].item<float>() - 1.f) < 1e-6, q[0][0].item<float>());
  CHECK_MSG(std::abs(q[0][1].item<float>() - 2.5f) < 1e-6, q[0][1].item<float>());
  CHECK_MSG(std::abs(q[0][2].item<float>() - 4.f) < 1e-6, q[0][2].item<float>());
  CHECK_MSG(std::abs(q[0][3].item<float>() - 7.f) < 1e-6, q[0][3].item<float>());
  CHECK(std::isnan(q[1][0].item<float>()));  // nothing masked: no quantile
}

TEST_CASE("optical density and CIELAB round-trip, and LAB matches known values") {
  auto rgb = torch::rand({1000, 3}, torch::kFloat32);
  auto back = opticalDensityToRgb(rgbToOpticalDensity(rgb));
  CHECK_MSG((back - rgb).abs().max().item<float>() < 1e-5, (back - rgb).abs().max().item<float>());
  CHECK(rgbToOpticalDensity(torch::ones({1, 3})).abs().max().item<float>() < 1e-6);  // white has no density
  auto lab = labToRgb(rgbToLab(rgb));
  CHECK_MSG((lab - rgb).abs().max().item<float>() < 1e-4, (lab - rgb).abs().max().item<float>());
  // sRGB red: skimage.color.rgb2lab gives (53.2408, 80.0925, 67.2032).
  auto red = rgbToLab(torch::tensor({{1.f, 0.f, 0.f}}));
  CHECK_MSG(std::abs(red[0][0].item<float>() - 53.2408f) < 0.01, red[0][0].item<float>());
  CHECK_MSG(std::abs(red[0][1].item<float>() - 80.0925f) < 0.02, red[0][1].item<float>());
  CHECK_MSG(std::abs(red[0][2].item<float>() - 67.2032f) < 0.02, red[0][2].item<float>());
}

TEST_CASE("Macenko recovers the stain vectors an image was made of") {
  // Macenko et al.'s reference stains.
  auto h = unit({0.5626, 0.7201, 0.4062}), e = unit({0.2159, 0.8012, 0.5581});
  auto image = twoStainImage(h, e, 96, 3);
  auto fit = fitMacenko(image);
  CHECK(fit.valid[0].item<bool>());
  auto he = fit.stain_matrix[0].to(torch::kCPU).to(torch::kFloat64);
  // Pure-stain pixels sit at the extreme angles: the 1st/99th percentiles land on them.
  CHECK_MSG(angleDegrees(he.select(1, 0), h) < 1.0, angleDegrees(he.select(1, 0), h));
  CHECK_MSG(angleDegrees(he.select(1, 1), e) < 1.0, angleDegrees(he.select(1, 1), e));
  // Concentrations of the mixtures reach 1.5 (H) and 1.3 (E): the 99th percentile is close below.
  auto max_c = fit.max_concentrations[0].to(torch::kCPU);
  CHECK_MSG(max_c[0].item<float>() > 1.3f && max_c[0].item<float>() < 1.55f, max_c[0].item<float>());
  CHECK_MSG(max_c[1].item<float>() > 1.1f && max_c[1].item<float>() < 1.35f, max_c[1].item<float>());
}

TEST_CASE("Macenko maps one stain pair onto another's, and batches like single images") {
  auto source = twoStainImage(unit({0.55, 0.80, 0.35}), unit({0.10, 0.95, 0.20}), 64, 5);
  auto reference = twoStainImage(unit({0.5626, 0.7201, 0.4062}), unit({0.2159, 0.8012, 0.5581}), 64, 6);
  auto target = fitStainTarget(StainMethod::kMacenko, reference);
  auto normalized = normalizeStain(source, target);
  CHECK(!normalized.fallback[0].item<bool>());
  // The normalised image's own fit is the target's stains.
  auto refit = fitMacenko(normalized.images).stain_matrix[0].to(torch::kCPU).to(torch::kFloat64);
  auto want = fitMacenko(reference).stain_matrix[0].to(torch::kCPU).to(torch::kFloat64);
  CHECK_MSG(angleDegrees(refit.select(1, 0), want.select(1, 0)) < 2.0, angleDegrees(refit.select(1, 0), want.select(1, 0)));
  CHECK_MSG(angleDegrees(refit.select(1, 1), want.select(1, 1)) < 2.0, angleDegrees(refit.select(1, 1), want.select(1, 1)));
  // A batch gives each image what it gets alone (per-image masks and percentiles).
  auto white = torch::ones_like(source);
  auto batch = normalizeStain(torch::cat({source, white, reference}), target);
  auto alone = normalizeStain(reference, target);
  CHECK((batch.images[0] - normalized.images[0]).abs().max().item<float>() < 1e-5);
  CHECK((batch.images[2] - alone.images[0]).abs().max().item<float>() < 1e-5);
  CHECK(batch.fallback[1].item<bool>() && !batch.fallback[0].item<bool>() && !batch.fallback[2].item<bool>());
}

TEST_CASE("blank, white, black, one-colour and near-white images fall back unchanged and finite") {
  auto reference = twoStainImage(unit({0.5626, 0.7201, 0.4062}), unit({0.2159, 0.8012, 0.5581}), 48, 7);
  torch::manual_seed(1);
  auto near_white = (0.97 + 0.03 * torch::rand({1, 3, 48, 48})).to(testDevice());
  auto flat_pink = torch::tensor({0.8f, 0.4f, 0.6f}).view({1, 3, 1, 1}).expand({1, 3, 48, 48}).contiguous().to(testDevice());
  auto images = torch::cat({torch::ones({1, 3, 48, 48}).to(testDevice()), torch::zeros({1, 3, 48, 48}).to(testDevice()),
                            flat_pink, near_white});
  for (auto method : {StainMethod::kMacenko, StainMethod::kReinhard}) {
    auto target = fitStainTarget(method, reference);
    auto out = normalizeStain(images, target);
    CHECK_MSG(torch::isfinite(out.images).all().item<bool>(), toString(method));
    CHECK_MSG((out.images - images).abs().max().item<float>() == 0.f, toString(method));
    // Black has no stain either way for Reinhard (flat L); Macenko sees no two stains in it.
    CHECK_MSG(out.fallback.all().item<bool>(), toString(method) << " " << out.fallback);
  }
  CHECK_THROWS_WITH(fitStainTarget(StainMethod::kMacenko, torch::ones({1, 3, 32, 32})), "too little tissue");
  CHECK_THROWS_WITH(fitStainTarget(StainMethod::kReinhard, flat_pink.to(torch::kCPU)), "one colour");
  CHECK_THROWS_WITH(fitStainTarget(StainMethod::kReinhard, near_white.to(torch::kCPU)), "blank");
}

TEST_CASE("Reinhard moves each LAB channel's mean and spread to the target's") {
  auto source = twoStainImage(unit({0.55, 0.80, 0.35}), unit({0.10, 0.95, 0.20}), 64, 8);
  auto reference = twoStainImage(unit({0.5626, 0.7201, 0.4062}), unit({0.2159, 0.8012, 0.5581}), 64, 9);
  auto target = fitStainTarget(StainMethod::kReinhard, reference);
  auto out = normalizeStain(source, target);
  auto fit = fitReinhard(out.images);
  for (int c = 0; c < 3; ++c) {
    // Exact in LAB; clipping the moved colours to the RGB gamut shifts the spreads by some percent.
    CHECK_MSG(std::abs(fit.mean[0][c].item<double>() - target.lab_mean[c]) < 1.0, c << " " << fit.mean[0][c].item<double>());
    CHECK_MSG(std::abs(fit.std[0][c].item<double>() / target.lab_std[c] - 1) < 0.15, c << " " << fit.std[0][c].item<double>() / target.lab_std[c]);
  }
}

TEST_CASE("HED jitter: strength 0 is the identity, a seed fixes the result, factors stay in range") {
  auto image = twoStainImage(unit({0.5626, 0.7201, 0.4062}), unit({0.2159, 0.8012, 0.5581}), 32, 10);
  CHECK(torch::equal(jitterHed(image, 0, 123), image));
  auto a = jitterHed(image, 0.1, 42), b = jitterHed(image, 0.1, 42), c = jitterHed(image, 0.1, 43);
  CHECK(torch::equal(a, b));
  CHECK((a - c).abs().max().item<float>() > 1e-3);
  CHECK(torch::isfinite(jitterHed(torch::zeros_like(image), 0.3, 1)).all().item<bool>());
  auto f = hedJitterFactors(1000, 0.2, 7);
  CHECK(f.narrow(1, 0, 3).min().item<double>() >= 0.8 && f.narrow(1, 0, 3).max().item<double>() <= 1.2);
  CHECK(f.narrow(1, 3, 3).abs().max().item<double>() <= 0.2);
  CHECK(f.narrow(1, 3, 3).abs().max().item<double>() > 0.15);  // the range is used, not a corner of it
  CHECK_THROWS_WITH(jitterHed(image, -0.1, 1), "strength");
}

TEST_CASE("the stain target is saved in checkpoints and applied by predict") {
  ClassifierOptions options;
  options.device = testDevice().str();
  options.image_size = 32;
  options.seed = 3;
  Classifier classifier(options);
  auto reference = twoStainImage(unit({0.5626, 0.7201, 0.4062}), unit({0.2159, 0.8012, 0.5581}), 32, 11);
  auto target = fitStainTarget(StainMethod::kMacenko, reference);
  classifier.setStainTarget(target);

  auto source = twoStainImage(unit({0.55, 0.80, 0.35}), unit({0.10, 0.95, 0.20}), 32, 12);
  auto pixels = (source.permute({0, 2, 3, 1}) * 255).round().to(torch::kUInt8).to(torch::kCPU).contiguous();
  ImageBatchView view{pixels.data_ptr<uint8_t>(), 1, 32, 32};
  auto normalized = classifier.predict(view);
  StainTarget none;
  PredictOptions without;
  without.stain_override = &none;
  auto raw = classifier.predictDetailed(view, without).logits;
  CHECK((normalized - raw).abs().max().item<float>() > 1e-4);  // normalisation reaches the model

  const char* dir = std::getenv("TMPDIR");
  const std::string path = std::string(dir ? dir : "/tmp") + "/histoscope-native-stain.pt";
  classifier.save(path, {"{}", 1});
  auto loaded = Classifier::load(path, testDevice().str(), nullptr);
  std::remove(path.c_str());
  CHECK(loaded->stainTarget().method == StainMethod::kMacenko);
  for (size_t i = 0; i < 8; ++i) CHECK(loaded->stainTarget().values()[i] == target.values()[i]);
  CHECK((loaded->predict(view) - normalized).abs().max().item<float>() < 1e-5);
}
