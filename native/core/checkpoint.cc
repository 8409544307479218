// Histoscope checkpoints: one libtorch archive holding the weights, the Adam state, the epoch,
// the settings needed to rebuild the classifier, and an opaque metadata JSON from TypeScript.
#include <cstdio>
#include <fstream>
#include <stdexcept>
#ifdef _WIN32
#include <process.h>
#define HISTOSCOPE_GETPID _getpid
#else
#include <unistd.h>
#define HISTOSCOPE_GETPID getpid
#endif

#include <torch/serialize.h>

#include "core/classifier.h"

namespace histoscope {
namespace {

constexpr int64_t kFormatVersion = 1;

void writeString(torch::serialize::OutputArchive& archive, const std::string& key,
                 const std::string& value) {
  archive.write(key, c10::IValue(value));
}

std::string readString(torch::serialize::InputArchive& archive, const std::string& key) {
  c10::IValue value;
  archive.read(key, value);
  return value.toStringRef();
}

int64_t readInt(torch::serialize::InputArchive& archive, const std::string& key) {
  c10::IValue value;
  archive.read(key, value);
  return value.toInt();
}

double readDouble(torch::serialize::InputArchive& archive, const std::string& key) {
  c10::IValue value;
  archive.read(key, value);
  return value.toDouble();
}

}  // namespace

void Classifier::save(const std::string& path, const CheckpointInfo& info) {
  std::lock_guard<std::mutex> lock(mutex_);
  refuseIfInferenceOnly("be saved (its weights now hold the BatchNorm statistics)");
  torch::serialize::OutputArchive archive;
  archive.write("histoscope_format", c10::IValue(kFormatVersion));
  archive.write("num_classes", c10::IValue(options_.num_classes));
  writeString(archive, "trainable", toString(options_.trainable));
  writeString(archive, "frozen_batch_norm", toString(options_.frozen_batch_norm));
  writeString(archive, "precision", toString(options_.precision));
  archive.write("channels_last", c10::IValue(options_.channels_last));
  archive.write("learning_rate", c10::IValue(options_.learning_rate));
  archive.write("weight_decay", c10::IValue(options_.weight_decay));
  archive.write("image_size", c10::IValue(options_.image_size));
  archive.write("epoch", c10::IValue(info.epoch));
  writeString(archive, "metadata", info.metadata_json);
  // The stain target is part of the model: inputs are normalised to it wherever it is loaded.
  const auto stain = stainTarget();
  writeString(archive, "stain_method", toString(stain.method));
  archive.write("stain_values", torch::tensor(stain.values(), torch::kFloat64));

  // Tensors are stored on the CPU in a plain layout so a checkpoint moves between devices.
  torch::serialize::OutputArchive weights;
  for (const auto& item : model_->named_parameters()) {
    weights.write(item.key(), item.value().detach().to(torch::kCPU).contiguous());
  }
  for (const auto& item : model_->named_buffers()) {
    weights.write(item.key(), item.value().to(torch::kCPU).contiguous(), /*is_buffer=*/true);
  }
  archive.write("weights", weights);
  torch::serialize::OutputArchive optimizer;
  optimizer_->save(optimizer);
  archive.write("optimizer", optimizer);

  // The pid in the name lets the next run remove the temp of a killed writer, never a live one's
  // (src/util/stale-temp-files.ts).
  const std::string temp = path + ".tmp-" + std::to_string(HISTOSCOPE_GETPID()) + "-" +
                           std::to_string(reinterpret_cast<uintptr_t>(this));
  try {
    archive.save_to(temp);
  } catch (...) {
    std::remove(temp.c_str());
    throw;
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    std::remove(temp.c_str());
    throw std::runtime_error("Could not write the checkpoint '" + path +
                             "': renaming the temporary file failed. Check the folder exists "
                             "and is writable.");
  }
}

std::unique_ptr<Classifier> Classifier::load(const std::string& path, const std::string& device,
                                             CheckpointInfo* info, const std::string& precision) {
  if (!std::ifstream(path).good()) {
    throw std::runtime_error("Checkpoint '" + path + "' does not exist or cannot be read.");
  }
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path, c10::Device(c10::kCPU));
    readInt(archive, "histoscope_format");
  } catch (const c10::Error&) {
    throw std::runtime_error("'" + path + "' is not a Histoscope checkpoint. To start from "
                             "torchvision weights, load them as weights instead.");
  }
  ClassifierOptions options;
  options.num_classes = readInt(archive, "num_classes");
  options.trainable = parseTrainablePolicy(readString(archive, "trainable"));
  options.frozen_batch_norm = parseFrozenBatchNorm(readString(archive, "frozen_batch_norm"));
  // Inference may run in another precision than training did (bf16 on CPUs with AMX); the
  // checkpoint's own applies otherwise.
  options.precision = parsePrecision(precision.empty() ? readString(archive, "precision") : precision);
  c10::IValue channels_last;
  archive.read("channels_last", channels_last);
  options.channels_last = channels_last.toBool();
  options.learning_rate = readDouble(archive, "learning_rate");
  options.weight_decay = readDouble(archive, "weight_decay");
  options.image_size = readInt(archive, "image_size");
  options.device = device;

  auto classifier = std::make_unique<Classifier>(options);
  torch::serialize::InputArchive weights;
  archive.read("weights", weights);
  {
    torch::NoGradGuard no_grad;
    for (auto& item : classifier->model_->named_parameters()) {
      torch::Tensor value;
      weights.read(item.key(), value);
      item.value().copy_(value);
    }
    for (auto& item : classifier->model_->named_buffers()) {
      torch::Tensor value;
      weights.read(item.key(), value, /*is_buffer=*/true);
      item.value().copy_(value);
    }
  }
  torch::serialize::InputArchive optimizer;
  archive.read("optimizer", optimizer);
  classifier->optimizer_->load(optimizer);
  // Adam's moments were read onto the CPU; move them to where the parameters live. (The state
  // map's key type differs between libtorch versions, so only its values are touched.)
  for (auto& entry : classifier->optimizer_->state()) {
    auto& state = static_cast<torch::optim::AdamParamState&>(*entry.second);
    state.exp_avg(state.exp_avg().to(classifier->device_));
    state.exp_avg_sq(state.exp_avg_sq().to(classifier->device_));
    if (state.max_exp_avg_sq().defined()) {
      state.max_exp_avg_sq(state.max_exp_avg_sq().to(classifier->device_));
    }
  }
  // Checkpoints from before stain normalisation have no stain keys: no normalisation.
  c10::IValue stain_method;
  if (archive.try_read("stain_method", stain_method)) {
    torch::Tensor values;
    archive.read("stain_values", values);
    values = values.to(torch::kFloat64).contiguous();
    classifier->stain_ = StainTarget::fromValues(
        parseStainMethod(stain_method.toStringRef()),
        std::vector<double>(values.data_ptr<double>(), values.data_ptr<double>() + values.numel()));
  }
  if (info) {
    info->epoch = readInt(archive, "epoch");
    info->metadata_json = readString(archive, "metadata");
  }
  return classifier;
}

}  // namespace histoscope
