#include "core/stain/stain_target.h"

#include <cmath>
#include <stdexcept>
#include <vector>

namespace histoscope {

StainMethod parseStainMethod(const std::string& name) {
  if (name == "none") return StainMethod::kNone;
  if (name == "macenko") return StainMethod::kMacenko;
  if (name == "reinhard") return StainMethod::kReinhard;
  throw std::invalid_argument("Unknown stain normalisation '" + name +
                              "'. Expected 'macenko', 'reinhard' or 'none'.");
}

std::string toString(StainMethod method) {
  switch (method) {
    case StainMethod::kMacenko: return "macenko";
    case StainMethod::kReinhard: return "reinhard";
    case StainMethod::kNone: break;
  }
  return "none";
}

std::vector<double> StainTarget::values() const {
  std::vector<double> out;
  if (method == StainMethod::kMacenko) {
    out.assign(stain_matrix.begin(), stain_matrix.end());
    out.insert(out.end(), max_concentrations.begin(), max_concentrations.end());
  } else if (method == StainMethod::kReinhard) {
    out.assign(lab_mean.begin(), lab_mean.end());
    out.insert(out.end(), lab_std.begin(), lab_std.end());
  }
  return out;
}

StainTarget StainTarget::fromValues(StainMethod method, const std::vector<double>& values) {
  StainTarget target;
  target.method = method;
  const size_t expected = method == StainMethod::kMacenko ? 8 : method == StainMethod::kReinhard ? 6 : 0;
  if (values.size() != expected) {
    throw std::invalid_argument("A " + toString(method) + " stain target has " +
                                std::to_string(expected) + " numbers, got " +
                                std::to_string(values.size()) + ".");
  }
  for (double v : values) {
    if (!std::isfinite(v)) throw std::invalid_argument("A stain target's numbers must be finite.");
  }
  if (method == StainMethod::kMacenko) {
    for (int i = 0; i < 6; ++i) target.stain_matrix[i] = values[i];
    target.max_concentrations = {values[6], values[7]};
    if (values[6] <= 0 || values[7] <= 0) {
      throw std::invalid_argument("A Macenko target's maximum concentrations must be positive.");
    }
  } else if (method == StainMethod::kReinhard) {
    for (int i = 0; i < 3; ++i) {
      target.lab_mean[i] = values[i];
      target.lab_std[i] = values[3 + i];
      if (values[3 + i] <= 0) {
        throw std::invalid_argument("A Reinhard target's standard deviations must be positive.");
      }
    }
  }
  return target;
}

}  // namespace histoscope
