#include "binding/model_wrap.h"

#include <optional>

#include "binding/addon_data.h"
#include "binding/convert.h"
#include "binding/image_store_wrap.h"
#include "binding/compute_task.h"

namespace histoscope::binding {
namespace {

struct Done {};

}  // namespace

Napi::Function ModelWrap::Define(Napi::Env env) {
  Napi::Function ctor = DefineClass(
      env, "NativeModel",
      {StaticMethod<&ModelWrap::Create>("create"), StaticMethod<&ModelWrap::Load>("load"),
       InstanceMethod<&ModelWrap::LoadWeights>("loadWeights"),
       InstanceMethod<&ModelWrap::Predict>("predict"),
       InstanceMethod<&ModelWrap::PredictStored>("predictStored"),
       InstanceMethod<&ModelWrap::TrainStep>("trainStep"),
       InstanceMethod<&ModelWrap::TrainStepStored>("trainStepStored"),
       InstanceMethod<&ModelWrap::SetLearningRate>("setLearningRate"),
       InstanceMethod<&ModelWrap::TrainableParameters>("trainableParameters"),
       InstanceMethod<&ModelWrap::BatchNormStatistics>("batchNormStatistics"),
       InstanceMethod<&ModelWrap::SetStainTarget>("setStainTarget"),
       InstanceMethod<&ModelWrap::Gradcam>("gradcam"),
       InstanceMethod<&ModelWrap::GradcamBatch>("gradcamBatch"), InstanceMethod<&ModelWrap::Save>("save"),
       InstanceMethod<&ModelWrap::Info>("info"), InstanceMethod<&ModelWrap::Dispose>("dispose")});
  addonData(env).model_constructor = Napi::Persistent(ctor);
  return ctor;
}

Napi::Object ModelWrap::Wrap(Napi::Env env, std::shared_ptr<Classifier> classifier) {
  auto holder = new std::shared_ptr<Classifier>(std::move(classifier));
  auto external = Napi::External<std::shared_ptr<Classifier>>::New(
      env, holder, [](Napi::Env, std::shared_ptr<Classifier>* p) { delete p; });
  return addonData(env).model_constructor.New({external});
}

ModelWrap::ModelWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ModelWrap>(info) {
  if (info.Length() != 1 || !info[0].IsExternal()) {
    throw Napi::TypeError::New(info.Env(),
                               "NativeModel is created with NativeModel.create() or .load().");
  }
  classifier_ = *info[0].As<Napi::External<std::shared_ptr<Classifier>>>().Data();
  // Counts and folding never change, so info() never waits for the model's lock.
  parameters_ = classifier_->parameterCount(false);
  trainable_parameters_ = classifier_->parameterCount(true);
  inference_only_ = classifier_->inferenceOnly();
  one_dnn_packed_ = classifier_->oneDnnPacked();
}

std::shared_ptr<Classifier> ModelWrap::live(const Napi::Env& env) const {
  if (!classifier_) {
    throw Napi::Error::New(env, "This model was disposed; load it again to use it.");
  }
  return classifier_;
}

Napi::Value ModelWrap::Create(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto options = readClassifierOptions(info[0]);
    return ComputeTask<std::shared_ptr<Classifier>>::Start(
        env, "histoscope.create",
        [options] { return std::make_shared<Classifier>(options); },
        [](Napi::Env env, std::shared_ptr<Classifier>& c) { return Wrap(env, c); });
  });
}

Napi::Value ModelWrap::Load(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto path = readString(info[0], "the checkpoint path");
    auto device = info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : std::string("auto");
    auto precision = info[2].IsString() ? info[2].As<Napi::String>().Utf8Value() : std::string();
    const bool inference_only = info[3].IsBoolean() && info[3].As<Napi::Boolean>().Value();
    struct Loaded {
      std::shared_ptr<Classifier> classifier;
      CheckpointInfo info;
    };
    return ComputeTask<Loaded>::Start(
        env, "histoscope.load",
        [path, device, precision, inference_only] {
          Loaded loaded;
          loaded.classifier = Classifier::load(path, device, &loaded.info, precision);
          if (inference_only) loaded.classifier->foldForInference();
          return loaded;
        },
        [](Napi::Env env, Loaded& loaded) {
          auto result = Napi::Object::New(env);
          result.Set("model", Wrap(env, loaded.classifier));
          result.Set("metadata", loaded.info.metadata_json);
          result.Set("epoch", Napi::Number::New(env, static_cast<double>(loaded.info.epoch)));
          return result;
        });
  });
}

Napi::Value ModelWrap::LoadWeights(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto classifier = live(env);
    auto path = readString(info[0], "the weights path");
    return ComputeTask<WeightsReport>::Start(
        env, "histoscope.loadWeights", [classifier, path] { return classifier->loadWeights(path); },
        [](Napi::Env env, WeightsReport& report) {
          auto result = Napi::Object::New(env);
          result.Set("loaded", Napi::Number::New(env, static_cast<double>(report.loaded)));
          result.Set("headDropped", Napi::Boolean::New(env, report.head_dropped));
          auto notices = Napi::Array::New(env, report.notices.size());
          for (size_t i = 0; i < report.notices.size(); ++i) notices.Set(i, report.notices[i]);
          result.Set("notices", notices);
          return result;
        },
        {Value()});
  });
}

namespace {

// { stain?: target, perturbStrength?, perturbSeed? } as passed by src/native.ts.
struct PredictArguments {
  std::optional<StainTarget> stain;
  PredictOptions options;
};

PredictArguments readPredictArguments(const Napi::Value& value) {
  PredictArguments out;
  if (!value.IsObject()) return out;
  auto object = value.As<Napi::Object>();
  if (object.Has("stain") && object.Get("stain").IsObject()) out.stain = readStainTarget(object.Get("stain"));
  auto strength = object.Get("perturbStrength");
  if (strength.IsNumber()) out.options.perturb_strength = strength.As<Napi::Number>().DoubleValue();
  auto seed = object.Get("perturbSeed");
  if (seed.IsNumber()) out.options.perturb_seed = static_cast<uint64_t>(seed.As<Napi::Number>().Int64Value());
  return out;
}

PredictOptions withStain(const PredictArguments& arguments) {
  auto options = arguments.options;
  options.stain_override = arguments.stain ? &*arguments.stain : nullptr;
  return options;
}

Napi::Value predictResult(Napi::Env env, PredictResult& predicted) {
  auto result = Napi::Object::New(env);
  result.Set("logits", toFloat32Array(env, predicted.logits));
  result.Set("stainFallback", toFlags(env, predicted.stain_fallback));
  return result;
}

}  // namespace

// predict(data, shape, options) -> { logits, stainFallback }
Napi::Value ModelWrap::Predict(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto classifier = live(env);
    auto batch = readImageBatch(info[0], info[1]);
    auto arguments = readPredictArguments(info[2]);
    return ComputeTask<PredictResult>::Start(
        env, "histoscope.predict",
        [classifier, batch, arguments] { return classifier->predictDetailed(batch, withStain(arguments)); },
        predictResult, {Value(), info[0].As<Napi::Object>()});
  });
}

namespace {

struct TrainStepOptions {
  std::vector<int64_t> labels;
  std::vector<double> class_weights;
  std::optional<AugmentOptions> augment;
};

// (labels, { classWeights?, augment? }) as passed by src/native.ts.
TrainStepOptions readTrainStepOptions(const Napi::Value& labels, const Napi::Value& options) {
  TrainStepOptions out;
  out.labels = readIntegers(labels, "labels");
  if (options.IsObject()) {
    auto object = options.As<Napi::Object>();
    out.class_weights = readNumbers(object.Get("classWeights"), "classWeights");
    if (object.Get("augment").IsObject()) out.augment = readAugmentOptions(object.Get("augment").As<Napi::Object>());
  }
  return out;
}

Napi::Value trainStepResult(Napi::Env env, TrainStepResult& step) {
  auto result = Napi::Object::New(env);
  result.Set("loss", Napi::Number::New(env, step.loss));
  result.Set("logits", toFloat32Array(env, step.logits));
  result.Set("stainFallbacks", Napi::Number::New(env, static_cast<double>(step.stain_fallbacks)));
  return result;
}

}  // namespace

// trainStep(data, shape, labels, options)
Napi::Value ModelWrap::TrainStep(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto classifier = live(env);
    auto batch = readImageBatch(info[0], info[1]);
    auto step = readTrainStepOptions(info[2], info[3]);
    return ComputeTask<TrainStepResult>::Start(
        env, "histoscope.trainStep",
        [classifier, batch, step] {
          return classifier->trainStep(batch, step.labels, step.class_weights,
                                       step.augment ? &*step.augment : nullptr);
        },
        trainStepResult, {Value(), info[0].As<Napi::Object>()});
  });
}

// trainStepStored(store, rows, labels, options): the batch is gathered from a device-resident store.
Napi::Value ModelWrap::TrainStepStored(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto classifier = live(env);
    auto store = ImageStoreWrap::FromValue(info[0], "the image store");
    auto rows = readIntegers(info[1], "rows");
    auto step = readTrainStepOptions(info[2], info[3]);
    return ComputeTask<TrainStepResult>::Start(
        env, "histoscope.trainStepStored",
        [classifier, store, rows, step] {
          return classifier->trainStep(*store, rows, step.labels, step.class_weights,
                                       step.augment ? &*step.augment : nullptr);
        },
        trainStepResult, {Value(), info[0].As<Napi::Object>()});
  });
}

// predictStored(store, rows, options) -> { logits, stainFallback }
Napi::Value ModelWrap::PredictStored(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto classifier = live(env);
    auto store = ImageStoreWrap::FromValue(info[0], "the image store");
    auto rows = readIntegers(info[1], "rows");
    auto arguments = readPredictArguments(info[2]);
    return ComputeTask<PredictResult>::Start(
        env, "histoscope.predictStored",
        [classifier, store, rows, arguments] {
          return classifier->predictDetailed(*store, rows, withStain(arguments));
        },
        predictResult, {Value(), info[0].As<Napi::Object>()});
  });
}

// setStainTarget(target): queued behind the calls before it, like setLearningRate.
Napi::Value ModelWrap::SetStainTarget(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto classifier = live(env);
    auto target = readStainTarget(info[0]);
    return ComputeTask<Done>::Start(
        env, "histoscope.setStainTarget",
        [classifier, target] {
          classifier->setStainTarget(target);
          return Done{};
        },
        [](Napi::Env env, Done&) { return env.Undefined(); }, {Value()});
  });
}

// setLearningRate(lr): queued behind the calls before it, so a schedule applies between steps.
std::shared_ptr<Classifier> ModelWrap::FromValue(const Napi::Value& value, const char* what) {
  auto env = value.Env();
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(addonData(env).model_constructor.Value())) {
    throw Napi::TypeError::New(env, std::string("Expected a NativeModel for ") + what + ".");
  }
  return Napi::ObjectWrap<ModelWrap>::Unwrap(value.As<Napi::Object>())->live(env);
}

// trainableParameters() -> Promise<Float32Array>: every trainable value, flattened in order.
Napi::Value ModelWrap::TrainableParameters(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto classifier = live(env);
  return ComputeTask<torch::Tensor>::Start(
      env, "histoscope.trainableParameters", [classifier] { return classifier->trainableValues(); },
      [](Napi::Env env, torch::Tensor& values) { return toFloat32Array(env, values); },
      {Value()});
}

// batchNormStatistics() -> Promise<Float32Array>: every BatchNorm running mean and variance, in order.
Napi::Value ModelWrap::BatchNormStatistics(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto classifier = live(env);
  return ComputeTask<torch::Tensor>::Start(
      env, "histoscope.batchNormStatistics", [classifier] { return classifier->batchNormStatistics(); },
      [](Napi::Env env, torch::Tensor& values) { return toFloat32Array(env, values); }, {Value()});
}

Napi::Value ModelWrap::SetLearningRate(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto classifier = live(env);
    if (!info[0].IsNumber()) throw Napi::TypeError::New(env, "Expected a number for the learning rate.");
    double rate = info[0].As<Napi::Number>().DoubleValue();
    return ComputeTask<Done>::Start(
        env, "histoscope.setLearningRate",
        [classifier, rate] {
          classifier->setLearningRate(rate);
          return Done{};
        },
        [](Napi::Env env, Done&) { return env.Undefined(); }, {Value()});
  });
}

namespace {
Napi::Object gradcamResult(Napi::Env env, const GradCamResult& cam) {
  auto result = Napi::Object::New(env);
  result.Set("cam", toFloat32Array(env, cam.cam));
  result.Set("height", Napi::Number::New(env, static_cast<double>(cam.cam.size(0))));
  result.Set("width", Napi::Number::New(env, static_cast<double>(cam.cam.size(1))));
  result.Set("probabilities", toFloat32Array(env, cam.probabilities));
  result.Set("targetClass", Napi::Number::New(env, static_cast<double>(cam.target_class)));
  result.Set("stainFallback", Napi::Boolean::New(env, cam.stain_fallback));
  return result;
}
}  // namespace

Napi::Value ModelWrap::Gradcam(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto classifier = live(env);
    auto image = readImageBatch(info[0], info[1]);
    int64_t target = info[2].IsNumber() ? info[2].As<Napi::Number>().Int64Value() : -1;
    auto method = parseCamMethod(info[3].IsString() ? info[3].As<Napi::String>().Utf8Value() : "gradcam");
    return ComputeTask<GradCamResult>::Start(
        env, "histoscope.gradcam",
        [classifier, image, target, method] { return classifier->gradcam(image, target, method); },
        [](Napi::Env env, GradCamResult& cam) -> Napi::Value { return gradcamResult(env, cam); },
        {Value(), info[0].As<Napi::Object>()});
  });
}

// gradcamBatch(data, shape, targets, method, threshold) -> one result per image (targets[i] < 0:
// predicted class; by `threshold` on P(class 1) when it is a number, else the arg-max).
Napi::Value ModelWrap::GradcamBatch(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto classifier = live(env);
    auto images = readImageBatch(info[0], info[1]);
    auto targets = readIntegers(info[2], "Grad-CAM target classes");
    auto method = parseCamMethod(info[3].IsString() ? info[3].As<Napi::String>().Utf8Value() : "gradcam");
    const double threshold = info[4].IsNumber() ? info[4].As<Napi::Number>().DoubleValue() : -1;
    return ComputeTask<std::vector<GradCamResult>>::Start(
        env, "histoscope.gradcamBatch",
        [classifier, images, targets, method, threshold] { return classifier->gradcam(images, targets, method, threshold); },
        [](Napi::Env env, std::vector<GradCamResult>& cams) -> Napi::Value {
          auto list = Napi::Array::New(env, cams.size());
          for (size_t i = 0; i < cams.size(); ++i) list.Set(static_cast<uint32_t>(i), gradcamResult(env, cams[i]));
          return list;
        },
        {Value(), info[0].As<Napi::Object>()});
  });
}

Napi::Value ModelWrap::Save(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto classifier = live(env);
    auto path = readString(info[0], "the checkpoint path");
    CheckpointInfo checkpoint;
    checkpoint.metadata_json = info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "{}";
    checkpoint.epoch = info[2].IsNumber() ? info[2].As<Napi::Number>().Int64Value() : 0;
    return ComputeTask<Done>::Start(
        env, "histoscope.save",
        [classifier, path, checkpoint] {
          classifier->save(path, checkpoint);
          return Done{};
        },
        [](Napi::Env env, Done&) { return env.Undefined(); }, {Value()});
  });
}

Napi::Value ModelWrap::Info(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto classifier = live(env);
  const auto& options = classifier->options();
  auto result = Napi::Object::New(env);
  result.Set("device", classifier->device().str());
  result.Set("numClasses", Napi::Number::New(env, static_cast<double>(options.num_classes)));
  result.Set("trainable", toString(options.trainable));
  result.Set("frozenBatchNorm", toString(options.frozen_batch_norm));
  result.Set("precision", toString(options.precision));
  result.Set("channelsLast", Napi::Boolean::New(env, options.channels_last));
  result.Set("inferenceOnly", Napi::Boolean::New(env, inference_only_));
  result.Set("oneDnnPacked", Napi::Boolean::New(env, one_dnn_packed_));
  result.Set("learningRate", Napi::Number::New(env, options.learning_rate));
  result.Set("weightDecay", Napi::Number::New(env, options.weight_decay));
  result.Set("imageSize", Napi::Number::New(env, static_cast<double>(options.image_size)));
  result.Set("parameters", Napi::Number::New(env, static_cast<double>(parameters_)));
  result.Set("trainableParameters", Napi::Number::New(env, static_cast<double>(trainable_parameters_)));
  result.Set("stain", toStainObject(env, classifier->stainTarget()));
  return result;
}

Napi::Value ModelWrap::Dispose(const Napi::CallbackInfo& info) {
  // Work already queued keeps its own reference and finishes; memory goes when it does.
  classifier_.reset();
  return info.Env().Undefined();
}

}  // namespace histoscope::binding
