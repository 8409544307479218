// The classifier's settings as plain data, parsed from the strings the binding passes.
#pragma once

#include <cstdint>
#include <string>

namespace histoscope {

// Which parameters the optimiser updates. The study trains layer4 and fc on ImageNet weights.
enum class TrainablePolicy { kFc, kLayer4Fc, kAll };

// What frozen layers' BatchNorm does in training mode.
//   frozen (default): frozen layers stay in eval mode and keep their ImageNet running statistics,
//     so the features layer4 learns on do not drift under it from batch to batch.
//   update: PyTorch's usual recipe (model.train() on the whole network), where frozen layers'
//     running statistics still follow the training batches.
enum class FrozenBatchNorm { kFrozen, kUpdate };

// fp32 everywhere, or bf16 autocast (AMX/AVX512-BF16 CPUs, Ampere+ GPUs). Grad-CAM always runs
// in fp32 so an explanation does not depend on the speed setting.
enum class Precision { kFp32, kBf16 };

struct ClassifierOptions {
  int64_t num_classes = 2;  // 0 = benign, 1 = malignant
  TrainablePolicy trainable = TrainablePolicy::kLayer4Fc;
  FrozenBatchNorm frozen_batch_norm = FrozenBatchNorm::kFrozen;
  Precision precision = Precision::kFp32;
  std::string device = "auto";
  bool channels_last = true;
  double learning_rate = 1e-4;
  double weight_decay = 1e-4;
  int64_t image_size = 224;
  uint64_t seed = 0;  // initialisation of the weights that no file provides
};

TrainablePolicy parseTrainablePolicy(const std::string& name);
std::string toString(TrainablePolicy policy);
FrozenBatchNorm parseFrozenBatchNorm(const std::string& name);
std::string toString(FrozenBatchNorm policy);
Precision parsePrecision(const std::string& name);
std::string toString(Precision precision);

}  // namespace histoscope
