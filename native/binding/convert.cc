#include "binding/convert.h"

#include <cstring>

namespace histoscope::binding {
namespace {

[[noreturn]] void typeError(const Napi::Env& env, const std::string& message) {
  throw Napi::TypeError::New(env, message);
}

// Present (not undefined) option fields must have the right type: a wrong one is a TypeError,
// never silently ignored or cast.
bool present(const Napi::Object& object, const char* key) {
  return object.Has(key) && !object.Get(key).IsUndefined();
}

double numberField(const Napi::Object& object, const char* key) {
  auto value = object.Get(key);
  if (!value.IsNumber()) typeError(object.Env(), std::string("Expected a number for ") + key + ".");
  return value.As<Napi::Number>().DoubleValue();
}

int64_t integerField(const Napi::Object& object, const char* key) {
  auto value = object.Get(key);
  if (!value.IsNumber()) typeError(object.Env(), std::string("Expected an integer for ") + key + ".");
  return value.As<Napi::Number>().Int64Value();
}

bool booleanField(const Napi::Object& object, const char* key) {
  auto value = object.Get(key);
  if (!value.IsBoolean()) typeError(object.Env(), std::string("Expected a boolean for ") + key + ".");
  return value.As<Napi::Boolean>().Value();
}

}  // namespace

std::string readString(const Napi::Value& value, const char* what) {
  if (!value.IsString()) typeError(value.Env(), std::string("Expected a string for ") + what + ".");
  return value.As<Napi::String>().Utf8Value();
}

std::vector<int64_t> readIntegers(const Napi::Value& value, const char* what) {
  std::vector<int64_t> out;
  if (value.IsTypedArray()) {
    auto typed = value.As<Napi::TypedArray>();
    if (typed.TypedArrayType() == napi_int32_array) {
      auto ints = value.As<Napi::Int32Array>();
      out.assign(ints.Data(), ints.Data() + ints.ElementLength());
      return out;
    }
  }
  if (!value.IsArray()) typeError(value.Env(), std::string("Expected an array of integers for ") + what + ".");
  auto array = value.As<Napi::Array>();
  for (uint32_t i = 0; i < array.Length(); ++i) {
    Napi::Value item = array.Get(i);
    if (!item.IsNumber()) typeError(value.Env(), std::string("Expected integers in ") + what + ".");
    out.push_back(item.As<Napi::Number>().Int64Value());
  }
  return out;
}

std::vector<double> readNumbers(const Napi::Value& value, const char* what) {
  std::vector<double> out;
  if (value.IsUndefined() || value.IsNull()) return out;
  if (!value.IsArray()) typeError(value.Env(), std::string("Expected an array of numbers for ") + what + ".");
  auto array = value.As<Napi::Array>();
  for (uint32_t i = 0; i < array.Length(); ++i) {
    Napi::Value item = array.Get(i);
    if (!item.IsNumber()) typeError(value.Env(), std::string("Expected numbers in ") + what + ".");
    out.push_back(item.As<Napi::Number>().DoubleValue());
  }
  return out;
}

ImageBatchView readImageBatch(const Napi::Value& data, const Napi::Value& shape) {
  auto env = data.Env();
  if (!data.IsTypedArray() || data.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    typeError(env, "Expected a Uint8Array (or Buffer) of RGB pixels for images.");
  }
  auto dims = readIntegers(shape, "the image shape [n, height, width, 3]");
  if (dims.size() != 4 || dims[3] != 3 || dims[0] <= 0 || dims[1] <= 0 || dims[2] <= 0) {
    typeError(env, "Expected the image shape [n, height, width, 3] with positive sizes.");
  }
  auto bytes = data.As<Napi::Uint8Array>();
  if (static_cast<int64_t>(bytes.ByteLength()) != dims[0] * dims[1] * dims[2] * 3) {
    typeError(env, "The image buffer holds " + std::to_string(bytes.ByteLength()) +
                       " bytes but the shape asks for " +
                       std::to_string(dims[0] * dims[1] * dims[2] * 3) + ".");
  }
  return {bytes.Data(), dims[0], dims[1], dims[2]};
}

ClassifierOptions readClassifierOptions(const Napi::Value& value) {
  ClassifierOptions options;
  if (value.IsUndefined() || value.IsNull()) return options;
  if (!value.IsObject()) typeError(value.Env(), "Expected an options object for the model.");
  auto object = value.As<Napi::Object>();
  auto has = [&](const char* key) { return present(object, key); };
  if (has("numClasses")) options.num_classes = integerField(object, "numClasses");
  if (has("trainable")) options.trainable = parseTrainablePolicy(readString(object.Get("trainable"), "trainable"));
  if (has("frozenBatchNorm")) {
    options.frozen_batch_norm = parseFrozenBatchNorm(readString(object.Get("frozenBatchNorm"), "frozenBatchNorm"));
  }
  if (has("precision")) options.precision = parsePrecision(readString(object.Get("precision"), "precision"));
  if (has("device")) options.device = readString(object.Get("device"), "device");
  if (has("channelsLast")) options.channels_last = booleanField(object, "channelsLast");
  if (has("learningRate")) options.learning_rate = numberField(object, "learningRate");
  if (has("weightDecay")) options.weight_decay = numberField(object, "weightDecay");
  if (has("imageSize")) options.image_size = integerField(object, "imageSize");
  if (has("seed")) options.seed = static_cast<uint64_t>(integerField(object, "seed"));
  return options;
}

AugmentOptions readAugmentOptions(const Napi::Object& object) {
  AugmentOptions options;
  auto flag = [&](const char* key, bool fallback) { return present(object, key) ? booleanField(object, key) : fallback; };
  options.horizontal_flip = flag("horizontalFlip", true);
  options.vertical_flip = flag("verticalFlip", true);
  options.right_angle_rotation = flag("rightAngleRotation", true);
  if (present(object, "maxRotationDegrees")) options.max_rotation_degrees = numberField(object, "maxRotationDegrees");
  if (present(object, "fill")) options.fill = parseRotationFill(readString(object.Get("fill"), "fill"));
  if (present(object, "hedStrength")) options.hed_strength = numberField(object, "hedStrength");
  if (present(object, "seed")) options.seed = static_cast<uint64_t>(integerField(object, "seed"));
  if (present(object, "sampleSeeds")) {
    auto seeds = object.Get("sampleSeeds");
    if (!seeds.IsArray()) typeError(object.Env(), "Expected an array of integers for sampleSeeds.");
    auto array = seeds.As<Napi::Array>();
    for (uint32_t i = 0; i < array.Length(); ++i) {
      auto seed = array.Get(i);
      if (!seed.IsNumber()) typeError(object.Env(), "Expected an array of integers for sampleSeeds.");
      options.sample_seeds.push_back(static_cast<uint64_t>(seed.As<Napi::Number>().Int64Value()));
    }
  }
  return options;
}

StainTarget readStainTarget(const Napi::Value& value) {
  if (!value.IsObject()) typeError(value.Env(), "Expected a stain target object { method, values }.");
  auto object = value.As<Napi::Object>();
  auto method = parseStainMethod(readString(object.Get("method"), "stain.method"));
  return StainTarget::fromValues(method, readNumbers(object.Get("values"), "stain.values"));
}

Napi::Object toStainObject(Napi::Env env, const StainTarget& target) {
  auto result = Napi::Object::New(env);
  result.Set("method", toString(target.method));
  auto values = target.values();
  auto array = Napi::Array::New(env, values.size());
  for (size_t i = 0; i < values.size(); ++i) array.Set(i, Napi::Number::New(env, values[i]));
  result.Set("values", array);
  return result;
}

Napi::Uint8Array toFlags(Napi::Env env, const torch::Tensor& flags) {
  auto values = flags.to(torch::kCPU).to(torch::kUInt8).contiguous();
  auto array = Napi::Uint8Array::New(env, static_cast<size_t>(values.numel()));
  if (values.numel() > 0) std::memcpy(array.Data(), values.data_ptr<uint8_t>(), values.numel());
  return array;
}

Napi::Float32Array toFloat32Array(Napi::Env env, const torch::Tensor& tensor) {
  auto values = tensor.to(torch::kFloat32).contiguous();
  auto array = Napi::Float32Array::New(env, static_cast<size_t>(values.numel()));
  std::memcpy(array.Data(), values.data_ptr<float>(), values.numel() * sizeof(float));
  return array;
}

}  // namespace histoscope::binding
