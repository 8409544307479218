// NativeModel: the JS handle of a core Classifier. Every computing method returns a Promise and
// runs on the compute thread; a disposed model rejects every call.
#pragma once

#include <napi.h>

#include <memory>

#include "core/classifier.h"

namespace histoscope::binding {

class ModelWrap : public Napi::ObjectWrap<ModelWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  // Wraps an existing classifier in a new JS object (used when create/load finish).
  static Napi::Object Wrap(Napi::Env env, std::shared_ptr<Classifier> classifier);

  explicit ModelWrap(const Napi::CallbackInfo& info);

  // The classifier behind a JS value, or a TypeError naming `what` (a disposed model: an Error).
  static std::shared_ptr<Classifier> FromValue(const Napi::Value& value, const char* what);

 private:
  static Napi::Value Create(const Napi::CallbackInfo& info);
  static Napi::Value Load(const Napi::CallbackInfo& info);

  Napi::Value LoadWeights(const Napi::CallbackInfo& info);
  Napi::Value Predict(const Napi::CallbackInfo& info);
  Napi::Value PredictStored(const Napi::CallbackInfo& info);
  Napi::Value TrainStep(const Napi::CallbackInfo& info);
  Napi::Value TrainStepStored(const Napi::CallbackInfo& info);
  Napi::Value SetLearningRate(const Napi::CallbackInfo& info);
  Napi::Value TrainableParameters(const Napi::CallbackInfo& info);
  Napi::Value BatchNormStatistics(const Napi::CallbackInfo& info);
  Napi::Value SetStainTarget(const Napi::CallbackInfo& info);
  Napi::Value Gradcam(const Napi::CallbackInfo& info);
  Napi::Value GradcamBatch(const Napi::CallbackInfo& info);
  Napi::Value Save(const Napi::CallbackInfo& info);
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  // The classifier, or a JS Error when disposed.
  std::shared_ptr<Classifier> live(const Napi::Env& env) const;

  std::shared_ptr<Classifier> classifier_;
  int64_t parameters_ = 0;
  int64_t trainable_parameters_ = 0;
  bool inference_only_ = false;  // folded (and packed) before wrapping (load), so these never change
  bool one_dnn_packed_ = false;
};

}  // namespace histoscope::binding
