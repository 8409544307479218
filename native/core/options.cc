#include "core/options.h"

#include <stdexcept>

namespace histoscope {

TrainablePolicy parseTrainablePolicy(const std::string& name) {
  if (name == "fc") return TrainablePolicy::kFc;
  if (name == "layer4+fc") return TrainablePolicy::kLayer4Fc;
  if (name == "all") return TrainablePolicy::kAll;
  throw std::invalid_argument("Unknown trainable policy '" + name +
                              "'. Expected 'fc', 'layer4+fc' or 'all'.");
}

std::string toString(TrainablePolicy policy) {
  switch (policy) {
    case TrainablePolicy::kFc: return "fc";
    case TrainablePolicy::kLayer4Fc: return "layer4+fc";
    case TrainablePolicy::kAll: return "all";
  }
  return "?";
}

FrozenBatchNorm parseFrozenBatchNorm(const std::string& name) {
  if (name == "frozen") return FrozenBatchNorm::kFrozen;
  if (name == "update") return FrozenBatchNorm::kUpdate;
  throw std::invalid_argument("Unknown frozen BatchNorm policy '" + name +
                              "'. Expected 'frozen' or 'update'.");
}

std::string toString(FrozenBatchNorm policy) {
  return policy == FrozenBatchNorm::kFrozen ? "frozen" : "update";
}

Precision parsePrecision(const std::string& name) {
  if (name == "fp32") return Precision::kFp32;
  if (name == "bf16") return Precision::kBf16;
  throw std::invalid_argument("Unknown precision '" + name + "'. Expected 'fp32' or 'bf16'.");
}

std::string toString(Precision precision) {
  return precision == Precision::kFp32 ? "fp32" : "bf16";
}

}  // namespace histoscope
