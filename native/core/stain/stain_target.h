// Stain normalisation targets: what a model's inputs are normalised to, fitted once (to a
// reference image or a sample of the training split) and stored with the model.
#pragma once

#include <array>
#include <string>
#include <vector>

namespace histoscope {

enum class StainMethod { kNone, kMacenko, kReinhard };
StainMethod parseStainMethod(const std::string& name);
std::string toString(StainMethod method);

struct StainTarget {
  StainMethod method = StainMethod::kNone;
  // Macenko: unit optical-density vectors of haematoxylin and eosin (RGB each) and the 99th
  // percentile of their concentrations.
  std::array<double, 6> stain_matrix{};  // H r,g,b then E r,g,b
  std::array<double, 2> max_concentrations{};
  // Reinhard: mean and standard deviation of L, a, b (CIELAB, D65).
  std::array<double, 3> lab_mean{};
  std::array<double, 3> lab_std{};

  // The numbers above in one list (Macenko: 8, Reinhard: 6, none: 0), for checkpoints.
  std::vector<double> values() const;
  static StainTarget fromValues(StainMethod method, const std::vector<double>& values);
};

}  // namespace histoscope
