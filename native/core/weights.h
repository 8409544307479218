// Copying a state dict (named tensors from a weight file) into the model, strictly: every name
// and shape must match, except the classifier head of another class count, which is dropped
// (the 1000-class ImageNet fc when fine-tuning a 2-class model).
#pragma once

#include <string>
#include <vector>

#include "core/io/state_dict.h"
#include "core/resnet.h"

namespace histoscope {

struct WeightsReport {
  int64_t loaded = 0;                    // tensors copied into the model
  bool head_dropped = false;             // fc had another class count and was left as initialised
  std::vector<std::string> notices;      // human-readable remarks (head dropped, ...)
};

// Throws std::runtime_error listing the missing, unexpected and mis-shaped keys (naming
// `source` for the user) when the state dict does not fit ResNet-50.
WeightsReport applyStateDict(ResNet50& model, const NamedTensors& state, const std::string& source);

}  // namespace histoscope
