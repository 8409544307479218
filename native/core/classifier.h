// The benign/malignant classifier: a ResNet-50, its optimiser and its settings, with the four
// things the rest of Histoscope asks of it (train step, predict, Grad-CAM, save/load).
// Every public method is safe to call from any thread; calls on one classifier run one at a
// time, because training mode, autograd and BatchNorm state are per model.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <torch/optim/adam.h>

#include "core/cam_weights.h"
#include "core/image_store.h"
#include "core/options.h"
#include "core/packed_trunk.h"
#include "core/preprocess.h"
#include "core/resnet.h"
#include "core/stain/stain_target.h"
#include "core/step_readback.h"
#include "core/weights.h"

namespace histoscope {
namespace distributed {
class ProcessGroup;
class GradientReducer;
}  // namespace distributed

// What predict may do beyond the model's own preprocessing (robustness evaluation).
struct PredictOptions {
  // A stain target to use instead of the model's (method none = no normalisation).
  const StainTarget* stain_override = nullptr;
  // A controlled HED perturbation applied before normalisation, as a different lab's stain.
  double perturb_strength = 0;
  uint64_t perturb_seed = 0;
};

struct PredictResult {
  torch::Tensor logits;          // [N, classes], float32, CPU
  torch::Tensor stain_fallback;  // [N] bool, CPU: left unchanged by the stain normaliser
};

struct GradCamResult {
  torch::Tensor cam;            // [H, W] in 0..1 at the input image's size, float32, CPU
  torch::Tensor probabilities;  // [classes], float32, CPU
  int64_t target_class = 0;
  bool stain_fallback = false;
};

struct CheckpointInfo {
  std::string metadata_json;  // opaque to the core: the TypeScript side owns its schema
  int64_t epoch = 0;
};

class Classifier {
 public:
  explicit Classifier(const ClassifierOptions& options);
  ~Classifier();

  WeightsReport loadWeights(const std::string& path);

  // Logits [N, classes] (float32, CPU) in eval mode, without autograd. Callers take the softmax:
  // logits are what parity tests against PyTorch compare.
  torch::Tensor predict(const ImageBatchView& batch);
  // The same for rows of an image store (gathered on the store's device).
  torch::Tensor predict(const ImageStore& store, const std::vector<int64_t>& rows);
  // The same with options, and which images the stain normaliser left unchanged.
  PredictResult predictDetailed(const ImageBatchView& batch, const PredictOptions& options);
  PredictResult predictDetailed(const ImageStore& store, const std::vector<int64_t>& rows,
                                const PredictOptions& options);

  // The stain target every input is normalised to (part of the model: saved in checkpoints).
  void setStainTarget(const StainTarget& target);
  StainTarget stainTarget() const;

  // One optimiser step of class-weighted cross-entropy on an augmented batch.
  // `class_weights` empty means unweighted. `augment` null means no augmentation.
  TrainStepResult trainStep(const ImageBatchView& batch, const std::vector<int64_t>& labels,
                            const std::vector<double>& class_weights,
                            const AugmentOptions* augment);
  TrainStepResult trainStep(const ImageStore& store, const std::vector<int64_t>& rows,
                            const std::vector<int64_t>& labels,
                            const std::vector<double>& class_weights,
                            const AugmentOptions* augment);

  // Grad-CAM (or Grad-CAM++) on layer4's output for one image; target_class < 0 means the
  // predicted class.
  GradCamResult gradcam(const ImageBatchView& image, int64_t target_class,
                        CamMethod method = CamMethod::kGradCam);
  // The same for each image of a batch in one forward pass (the server's micro-batches), with one
  // target class per image (< 0: that image's predicted class). The predicted class is the
  // arg-max, or with a `malignant_threshold` in 0..1 (two classes only) class 1 when its
  // probability reaches it: the label a model card's threshold gives, so the map explains the
  // label shown without a second pass.
  std::vector<GradCamResult> gradcam(const ImageBatchView& images,
                                     const std::vector<int64_t>& target_classes,
                                     CamMethod method = CamMethod::kGradCam,
                                     double malignant_threshold = -1);

  void setLearningRate(double learning_rate);

  // Joins data-parallel training: rank 0's weights and buffers are copied to every rank, and
  // from then on each train step takes this rank's share of a global batch: the loss is
  // normalised by the global batch's class weight sum and the trainable gradients summed over
  // the ranks (in buckets of `bucket_bytes`), so every rank takes the step one process would take
  // on the whole global batch.
  // `sync_batch_norm`: BatchNorm layers in training mode take their statistics over the global
  // batch (distributed/sync_batch_norm.h) instead of this rank's share; in a world of one
  // process it changes nothing, and nothing is installed.
  void attachProcessGroup(std::shared_ptr<distributed::ProcessGroup> group, int64_t bucket_bytes,
                          bool sync_batch_norm = false);
  // This rank's part of a step in which it has no images (a short last global batch).
  TrainStepResult trainStepWithoutImages();

  // Weights, optimiser state, epoch, settings and metadata in one file, written atomically.
  void save(const std::string& path, const CheckpointInfo& info);
  // Restores a file written by save(); `device` overrides the device it was trained on and a
  // non-empty `precision` ("fp32" | "bf16") the precision it runs in.
  static std::unique_ptr<Classifier> load(const std::string& path, const std::string& device,
                                          CheckpointInfo* info, const std::string& precision = "");

  // Serving, evaluation and Grad-CAM only need the forward pass in eval mode: folds BatchNorm into
  // the convolutions (resnet.h), and for fp32 on CPU also reorders their weights once for oneDNN
  // (packed_trunk.h; HISTOSCOPE_ONEDNN_PACKING=0 leaves them plain). Irreversible: afterwards a
  // train step, save() or loadWeights() is refused, since each would mix folded and unfolded weights.
  void foldForInference();
  bool inferenceOnly() const;
  // Whether predict and Grad-CAM run the oneDNN-packed trunk (folded fp32 on CPU).
  bool oneDnnPacked() const;

  const ClassifierOptions& options() const { return options_; }
  c10::Device device() const { return device_; }
  int64_t parameterCount(bool trainable_only) const;
  // Every trainable parameter's values, flattened in order (float32, CPU): what tests compare.
  torch::Tensor trainableValues();
  // Every BatchNorm layer's running mean and variance, flattened in order (float32, CPU).
  torch::Tensor batchNormStatistics();

 private:
  void applyTrainablePolicy();
  // Throws when the model is folded for inference: `action` is what was refused ("train").
  void refuseIfInferenceOnly(const std::string& action) const;
  void enterTrainMode();
  void checkBatch(const ImageBatchView& batch) const;
  void checkLabels(int64_t count, const std::vector<int64_t>& labels,
                   const std::vector<double>& class_weights) const;
  // uint8 NHWC pixels (any device) -> normalised, optionally augmented model input on device_, and
  // [N] bool on device_ in *stain_fallback (no host read: a train step reads back once, at its end):
  // [perturbation] -> stain normalisation -> [flips, rotations, HED jitter] -> ImageNet.
  torch::Tensor modelInput(const torch::Tensor& pixels, const AugmentOptions* augment,
                           const PredictOptions* predict, torch::Tensor* stain_fallback) const;
  PredictResult predictPixels(const torch::Tensor& pixels, const PredictOptions& options);
  TrainStepResult trainStepPixels(const torch::Tensor& pixels, const std::vector<int64_t>& labels,
                                  const std::vector<double>& class_weights,
                                  const AugmentOptions* augment);

  TrainStepResult distributedStep(const torch::Tensor& input, const std::vector<int64_t>& labels,
                                  const std::vector<double>& class_weights, const torch::Tensor& fallback);

  ClassifierOptions options_;
  c10::Device device_;
  std::shared_ptr<distributed::ProcessGroup> group_;
  std::unique_ptr<distributed::GradientReducer> reducer_;
  bool sync_batch_norm_ = false;
  // False while a rank without images runs its placeholder row through synchronised BatchNorm.
  bool rows_count_ = true;
  ResNet50 model_;
  // The trunk with oneDNN-packed weights, once folded for fp32 CPU inference; null otherwise.
  std::unique_ptr<PackedTrunk> packed_;
  // layer4's output for eval-mode input: through packed_ when there is one.
  torch::Tensor trunkFeatures(const torch::Tensor& input);
  StainTarget stain_;
  // Its own lock: info() reads the target from the JS thread and must not wait for a train step.
  mutable std::mutex stain_mutex_;
  std::unique_ptr<torch::optim::Adam> optimizer_;
  mutable std::mutex mutex_;
};

}  // namespace histoscope
