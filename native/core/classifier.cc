#include "core/classifier.h"

#include <cstdlib>
#include <stdexcept>

#include <torch/autograd.h>
#include <torch/nn/functional/loss.h>
#include <torch/nn/functional/upsampling.h>

#include "core/autocast.h"
#include "core/distributed/gradient_reducer.h"
#include "core/distributed/sync_batch_norm.h"
#include "core/distributed/tensor_sync.h"
#include "core/runtime.h"
#include "core/stain/hed_jitter.h"
#include "core/stain/stain_normalizer.h"

namespace histoscope {
namespace F = torch::nn::functional;

Classifier::Classifier(const ClassifierOptions& options)
    : options_(options), device_(resolveDevice(options.device)), model_(nullptr) {
  if (options_.num_classes < 2) throw std::invalid_argument("A classifier needs at least 2 classes.");
  if (options_.image_size < 32) throw std::invalid_argument("Image size must be at least 32 pixels.");
  torch::manual_seed(options_.seed);
  model_ = ResNet50(1000);
  model_->resetHead(options_.num_classes);
  model_->to(device_);
  applyTrainablePolicy();
}

Classifier::~Classifier() = default;

void Classifier::applyTrainablePolicy() {
  for (auto& item : model_->named_parameters()) {
    const auto& name = item.key();
    bool trainable = options_.trainable == TrainablePolicy::kAll ||
                     name.rfind("fc.", 0) == 0 ||
                     (options_.trainable == TrainablePolicy::kLayer4Fc && name.rfind("layer4.", 0) == 0);
    item.value().set_requires_grad(trainable);
  }
  if (options_.channels_last) {
    torch::NoGradGuard no_grad;
    for (auto& p : model_->parameters()) {
      if (p.dim() == 4) p.set_data(p.data().contiguous(at::MemoryFormat::ChannelsLast));
    }
  }
  std::vector<torch::Tensor> trainable;
  for (auto& p : model_->parameters()) {
    if (p.requires_grad()) trainable.push_back(p);
  }
  optimizer_ = std::make_unique<torch::optim::Adam>(
      trainable,
      torch::optim::AdamOptions(options_.learning_rate).weight_decay(options_.weight_decay));
}

void Classifier::foldForInference() {
  std::lock_guard<std::mutex> lock(mutex_);
  model_->eval();
  model_->foldBatchNorm();
  const char* packing = std::getenv("HISTOSCOPE_ONEDNN_PACKING");
  const bool allowed = !(packing && std::string(packing) == "0");
  // bf16 on CPU already runs through oneDNN's AMX kernels under autocast; packing is for fp32.
  if (allowed && !packed_ && device_.is_cpu() && options_.precision == Precision::kFp32 && PackedTrunk::available()) {
    packed_ = std::make_unique<PackedTrunk>(*model_);
  }
}

torch::Tensor Classifier::trunkFeatures(const torch::Tensor& input) {
  return packed_ ? packed_->features(input) : model_->features(input);
}

bool Classifier::inferenceOnly() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return model_->batchNormFolded();
}

bool Classifier::oneDnnPacked() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return packed_ != nullptr;
}

void Classifier::refuseIfInferenceOnly(const std::string& action) const {
  if (!model_->batchNormFolded()) return;
  throw std::logic_error("This model was loaded for inference only (its BatchNorm layers are folded into its "
                         "convolutions), so it cannot " + action + ". Load the checkpoint again without "
                         "inferenceOnly to do that.");
}

void Classifier::enterTrainMode() {
  refuseIfInferenceOnly("train");
  model_->train();
  if (options_.frozen_batch_norm == FrozenBatchNorm::kUpdate) return;
  // Frozen stages keep their running statistics: put them back in eval mode.
  model_->conv1->eval();
  model_->bn1->eval();
  if (options_.trainable == TrainablePolicy::kAll) return;
  model_->layer1->eval();
  model_->layer2->eval();
  model_->layer3->eval();
  if (options_.trainable == TrainablePolicy::kFc) model_->layer4->eval();
}

void Classifier::checkBatch(const ImageBatchView& batch) const {
  if (!batch.data || batch.count <= 0 || batch.height <= 0 || batch.width <= 0) {
    throw std::invalid_argument("Empty image batch: expected at least one RGB image.");
  }
}

torch::Tensor Classifier::modelInput(const torch::Tensor& pixels, const AugmentOptions* augment,
                                     const PredictOptions* predict,
                                     torch::Tensor* stain_fallback) const {
  auto images = toFloatImages(pixels.to(device_), options_.image_size);
  if (predict && predict->perturb_strength > 0) {
    images = jitterHed(images, predict->perturb_strength, predict->perturb_seed);
  }
  // Normalised at the model's input size: the same pixels in training, evaluation and inference.
  const StainTarget stain = predict && predict->stain_override ? *predict->stain_override : stainTarget();
  if (stain.method != StainMethod::kNone) {
    auto normalized = normalizeStain(images, stain);
    images = normalized.images;
    if (stain_fallback) *stain_fallback = normalized.fallback;
  } else if (stain_fallback) {
    *stain_fallback = torch::zeros({images.size(0)}, torch::TensorOptions().dtype(torch::kBool).device(images.device()));
  }
  if (augment) {
    images = augmentImages(images, *augment);
    // Its own stream: the flips and rotations do not change when the jitter is turned on.
    if (augment->hed_strength > 0) {
      constexpr uint64_t kHedStream = 0x9e3779b97f4a7c15ULL;
      std::vector<uint64_t> seeds(augment->sample_seeds);
      for (auto& seed : seeds) seed ^= kHedStream;
      images = jitterHed(images, augment->hed_strength, augment->seed ^ kHedStream, seeds);
    }
  }
  images = normalizeImageNet(images);
  if (options_.channels_last) images = images.contiguous(at::MemoryFormat::ChannelsLast);
  return images;
}

WeightsReport Classifier::loadWeights(const std::string& path) {
  auto state = readStateDict(path);
  std::lock_guard<std::mutex> lock(mutex_);
  refuseIfInferenceOnly("load other weights");
  auto report = applyStateDict(model_, state, path);
  // Copying into parameters keeps their memory format, but a fresh optimiser state is needed:
  // moments from before the new weights mean nothing.
  applyTrainablePolicy();
  return report;
}

torch::Tensor Classifier::predict(const ImageBatchView& batch) {
  return predictDetailed(batch, PredictOptions{}).logits;
}

torch::Tensor Classifier::predict(const ImageStore& store, const std::vector<int64_t>& rows) {
  return predictDetailed(store, rows, PredictOptions{}).logits;
}

PredictResult Classifier::predictDetailed(const ImageBatchView& batch, const PredictOptions& options) {
  checkBatch(batch);
  return predictPixels(pixelsOnDevice(batch, device_), options);
}

PredictResult Classifier::predictDetailed(const ImageStore& store, const std::vector<int64_t>& rows,
                                          const PredictOptions& options) {
  return predictPixels(store.gather(rows), options);
}

PredictResult Classifier::predictPixels(const torch::Tensor& pixels, const PredictOptions& options) {
  std::lock_guard<std::mutex> lock(mutex_);
  torch::NoGradGuard no_grad;
  model_->eval();
  PredictResult result;
  torch::Tensor fallback;
  auto input = modelInput(pixels, nullptr, &options, &fallback);
  AutocastGuard autocast(device_.type(), torch::kBFloat16, options_.precision == Precision::kBf16);
  result.logits = model_->head(trunkFeatures(input)).to(torch::kFloat32).to(torch::kCPU);
  result.stain_fallback = fallback.to(torch::kCPU);
  return result;
}

void Classifier::setStainTarget(const StainTarget& target) {
  std::lock_guard<std::mutex> lock(stain_mutex_);
  stain_ = target;
}

StainTarget Classifier::stainTarget() const {
  std::lock_guard<std::mutex> lock(stain_mutex_);
  return stain_;
}

TrainStepResult Classifier::trainStep(const ImageBatchView& batch,
                                      const std::vector<int64_t>& labels,
                                      const std::vector<double>& class_weights,
                                      const AugmentOptions* augment) {
  checkBatch(batch);
  checkLabels(batch.count, labels, class_weights);
  return trainStepPixels(pixelsOnDevice(batch, device_), labels, class_weights, augment);
}

TrainStepResult Classifier::trainStep(const ImageStore& store, const std::vector<int64_t>& rows,
                                      const std::vector<int64_t>& labels,
                                      const std::vector<double>& class_weights,
                                      const AugmentOptions* augment) {
  checkLabels(static_cast<int64_t>(rows.size()), labels, class_weights);
  return trainStepPixels(store.gather(rows), labels, class_weights, augment);
}

void Classifier::checkLabels(int64_t count, const std::vector<int64_t>& labels,
                             const std::vector<double>& class_weights) const {
  if (static_cast<int64_t>(labels.size()) != count) {
    throw std::invalid_argument("Got " + std::to_string(labels.size()) + " labels for " +
                                std::to_string(count) + " images.");
  }
  for (auto label : labels) {
    if (label < 0 || label >= options_.num_classes) {
      throw std::invalid_argument("Label " + std::to_string(label) + " is outside 0.." +
                                  std::to_string(options_.num_classes - 1) + ".");
    }
  }
  if (!class_weights.empty() && static_cast<int64_t>(class_weights.size()) != options_.num_classes) {
    throw std::invalid_argument("Expected " + std::to_string(options_.num_classes) +
                                " class weights, got " + std::to_string(class_weights.size()) + ".");
  }
}

TrainStepResult Classifier::trainStepPixels(const torch::Tensor& pixels,
                                            const std::vector<int64_t>& labels,
                                            const std::vector<double>& class_weights,
                                            const AugmentOptions* augment) {
  std::lock_guard<std::mutex> lock(mutex_);
  enterTrainMode();
  torch::Tensor fallback;
  auto input = modelInput(pixels, augment, nullptr, &fallback);
  if (group_) return distributedStep(input, labels, class_weights, fallback);
  auto target = torch::tensor(labels, torch::kInt64).to(device_);
  auto ce = F::CrossEntropyFuncOptions();
  if (!class_weights.empty()) {
    ce.weight(torch::tensor(class_weights, torch::kFloat64).to(torch::kFloat32).to(device_));
  }

  torch::Tensor logits, loss;
  {
    AutocastGuard autocast(device_.type(), torch::kBFloat16, options_.precision == Precision::kBf16);
    logits = model_->forward(input);
  }
  loss = F::cross_entropy(logits.to(torch::kFloat32), target, ce);
  optimizer_->zero_grad();
  loss.backward();
  optimizer_->step();
  return readBackStep(loss, logits, fallback, device_);
}

void Classifier::attachProcessGroup(std::shared_ptr<distributed::ProcessGroup> group, int64_t bucket_bytes,
                                    bool sync_batch_norm) {
  std::lock_guard<std::mutex> lock(mutex_);
  refuseIfInferenceOnly("join distributed training");
  std::vector<torch::Tensor> state, trainable;
  for (auto& p : model_->parameters()) {
    state.push_back(p);
    if (p.requires_grad()) trainable.push_back(p);
  }
  for (auto& b : model_->buffers()) state.push_back(b);
  distributed::broadcastTensors(*group, state, 0);
  reducer_.reset();
  reducer_ = std::make_unique<distributed::GradientReducer>(group, trainable, bucket_bytes);
  sync_batch_norm_ = sync_batch_norm && group->size() > 1;
  if (sync_batch_norm_) {
    // Captures the group and this classifier, which owns model_: both outlive every forward.
    model_->setTrainingBatchNorm([group, this](torch::nn::BatchNorm2dImpl& bn, const torch::Tensor& x) {
      return distributed::syncBatchNorm(group, bn, x, rows_count_);
    });
  } else {
    model_->setTrainingBatchNorm(nullptr);
  }
  group_ = std::move(group);
}

torch::Tensor Classifier::batchNormStatistics() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<torch::Tensor> parts;
  for (auto& module : model_->modules(/*include_self=*/false)) {
    if (auto* bn = module->as<torch::nn::BatchNorm2d>()) {
      parts.push_back(bn->running_mean.detach().reshape(-1).to(torch::kFloat32).to(torch::kCPU));
      parts.push_back(bn->running_var.detach().reshape(-1).to(torch::kFloat32).to(torch::kCPU));
    }
  }
  return torch::cat(parts).contiguous();
}

torch::Tensor Classifier::trainableValues() {
  std::lock_guard<std::mutex> lock(mutex_);
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> parts;
  for (auto& p : model_->parameters()) {
    if (p.requires_grad()) parts.push_back(p.detach().reshape(-1).to(torch::kFloat32).to(torch::kCPU));
  }
  return torch::cat(parts).contiguous();
}

TrainStepResult Classifier::trainStepWithoutImages() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!group_) throw std::logic_error("A train step without images only makes sense in distributed training.");
  enterTrainMode();
  return distributedStep(torch::Tensor(), {}, {}, torch::Tensor());
}

// `input` undefined: this rank has no images in this step but takes part in every collective.
TrainStepResult Classifier::distributedStep(const torch::Tensor& input, const std::vector<int64_t>& labels,
                                            const std::vector<double>& class_weights, const torch::Tensor& fallback) {
  // DDP's broadcast_buffers: BatchNorm statistics follow rank 0's, the rank whose checkpoints are kept.
  std::vector<torch::Tensor> buffers;
  for (auto& b : model_->buffers()) buffers.push_back(b);
  distributed::broadcastTensors(*group_, buffers, 0);

  // The global batch's class weight sum: sum_i w_i l_i / W over all ranks is one process's loss.
  double local_weight = 0;
  for (auto label : labels) local_weight += class_weights.empty() ? 1.0 : class_weights[label];
  std::vector<at::Tensor> weight{torch::full({1}, local_weight, torch::TensorOptions().dtype(torch::kFloat64).device(group_->device()))};
  group_->allreduceSum(weight);
  const double global_weight = weight[0].item<double>();
  if (!(global_weight > 0)) throw std::runtime_error("The global batch has no images on any rank.");

  torch::Tensor logits, loss;
  optimizer_->zero_grad();
  reducer_->prepare();
  if (!input.defined() && sync_batch_norm_) {
    // Synchronised BatchNorm all-reduces inside forward and backward, interleaved with the
    // gradient buckets: a rank without images runs the same graph on one zero image that counts
    // as no rows and has zero loss, so it issues the same collectives in the same order.
    auto placeholder = torch::zeros({1, 3, options_.image_size, options_.image_size}, torch::TensorOptions().device(device_));
    if (options_.channels_last) placeholder = placeholder.contiguous(at::MemoryFormat::ChannelsLast);
    rows_count_ = false;
    try {
      AutocastGuard autocast(device_.type(), torch::kBFloat16, options_.precision == Precision::kBf16);
      loss = model_->forward(placeholder).to(torch::kFloat32).sum() * 0.0;
    } catch (...) {
      rows_count_ = true;
      throw;
    }
    rows_count_ = true;
    loss.backward();
    logits = torch::empty({0, options_.num_classes}, torch::TensorOptions().device(device_));
  } else if (input.defined()) {
    auto target = torch::tensor(labels, torch::kInt64).to(device_);
    auto ce = F::CrossEntropyFuncOptions().reduction(torch::kSum);
    if (!class_weights.empty()) {
      ce.weight(torch::tensor(class_weights, torch::kFloat64).to(torch::kFloat32).to(device_));
    }
    {
      AutocastGuard autocast(device_.type(), torch::kBFloat16, options_.precision == Precision::kBf16);
      logits = model_->forward(input);
    }
    loss = F::cross_entropy(logits.to(torch::kFloat32), target, ce) / global_weight;
    loss.backward();
  } else {
    logits = torch::empty({0, options_.num_classes}, torch::TensorOptions().device(device_));
  }
  reducer_->finish(1.0);
  optimizer_->step();
  // The global loss is summed where the collectives run, then read back with the logits.
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64).device(group_->device());
  std::vector<at::Tensor> total{loss.defined() ? loss.detach().reshape({1}).to(f64).clone() : torch::zeros({1}, f64)};
  group_->allreduceSum(total);
  return readBackStep(total[0], logits, fallback, device_);
}

GradCamResult Classifier::gradcam(const ImageBatchView& image, int64_t target_class,
                                  CamMethod method) {
  checkBatch(image);
  if (image.count != 1) throw std::invalid_argument("Grad-CAM takes exactly one image.");
  return std::move(gradcam(image, std::vector<int64_t>{target_class}, method)[0]);
}

std::vector<GradCamResult> Classifier::gradcam(const ImageBatchView& images,
                                               const std::vector<int64_t>& target_classes,
                                               CamMethod method, double malignant_threshold) {
  checkBatch(images);
  const bool by_threshold = malignant_threshold >= 0;
  if (by_threshold && (malignant_threshold > 1 || options_.num_classes != 2)) {
    throw std::invalid_argument("A Grad-CAM threshold must lie in 0..1 and needs a two-class model; got " +
                                std::to_string(malignant_threshold) + " for " + std::to_string(options_.num_classes) +
                                " classes.");
  }
  if (static_cast<int64_t>(target_classes.size()) != images.count) {
    throw std::invalid_argument("Got " + std::to_string(target_classes.size()) +
                                " Grad-CAM target classes for " + std::to_string(images.count) +
                                " images.");
  }
  for (auto target : target_classes) {
    if (target >= options_.num_classes) {
      throw std::invalid_argument("Target class " + std::to_string(target) + " is outside 0.." +
                                  std::to_string(options_.num_classes - 1) + ".");
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  model_->eval();
  torch::Tensor fallback;
  auto input = modelInput(pixelsOnDevice(images, device_), nullptr, nullptr, &fallback);

  // Only the head's graph is needed for d(score)/d(layer4 output): run the trunk without autograd
  // and start a fresh leaf at layer4. No hooks outlive this call, and the graph is freed on return.
  // Both halves run in the model's precision, as predict's forward does, so that a bf16 model's
  // Grad-CAM answer is its prediction's answer.
  const bool bf16 = options_.precision == Precision::kBf16;
  torch::Tensor features, logits;
  {
    torch::NoGradGuard no_grad;
    AutocastGuard autocast(device_.type(), torch::kBFloat16, bf16);
    features = trunkFeatures(input).contiguous();
  }
  features.set_requires_grad(true);
  {
    AutocastGuard autocast(device_.type(), torch::kBFloat16, bf16);
    logits = model_->head(features).to(torch::kFloat32);
  }
  auto probabilities = torch::softmax(logits.detach(), 1).to(torch::kCPU);
  std::vector<int64_t> targets = target_classes;
  auto predicted = probabilities.argmax(1);
  for (int64_t i = 0; i < images.count; ++i) {
    if (targets[i] >= 0) continue;
    // As the TypeScript side's applyThreshold: P(class 1) as a float, compared in double.
    targets[i] = by_threshold ? (static_cast<double>(probabilities[i][1].item<float>()) >= malignant_threshold ? 1 : 0)
                              : predicted[i].item<int64_t>();
  }
  // In eval mode the images do not interact, so the gradient of the sum of each image's target
  // score holds each image's own gradient.
  auto index = torch::tensor(targets, torch::kInt64).to(logits.device()).unsqueeze(1);
  auto scores = logits.gather(1, index).sum();
  auto gradients = torch::autograd::grad({scores}, {features})[0].to(torch::kFloat32);

  torch::NoGradGuard no_grad;
  auto activations = features.detach().to(torch::kFloat32);
  auto channel_weights = camChannelWeights(gradients, activations, method);  // [N, C, 1, 1]
  auto cams = torch::relu((channel_weights * activations).sum(1, /*keepdim=*/true));
  cams = F::interpolate(cams, F::InterpolateFuncOptions()
                                  .size(std::vector<int64_t>{images.height, images.width})
                                  .mode(torch::kBilinear)
                                  .align_corners(false))
             .select(1, 0)
             .to(torch::kCPU);
  auto fallback_host = fallback.to(torch::kCPU);
  std::vector<GradCamResult> results;
  results.reserve(static_cast<size_t>(images.count));
  for (int64_t i = 0; i < images.count; ++i) {
    // Min-max to 0..1; a flat map (no positive evidence anywhere) stays all zeros.
    auto cam = cams[i];
    auto low = cam.min();
    auto range = (cam.max() - low).item<double>();
    cam = range > 1e-12 ? (cam - low) / range : torch::zeros_like(cam);
    results.push_back({cam.contiguous(), probabilities[i].contiguous(), targets[i],
                       fallback_host[i].item<bool>()});
  }
  return results;
}

void Classifier::setLearningRate(double learning_rate) {
  std::lock_guard<std::mutex> lock(mutex_);
  options_.learning_rate = learning_rate;
  for (auto& group : optimizer_->param_groups()) {
    static_cast<torch::optim::AdamOptions&>(group.options()).lr(learning_rate);
  }
}

int64_t Classifier::parameterCount(bool trainable_only) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return histoscope::parameterCount(*model_, trainable_only);
}

}  // namespace histoscope
