#include "binding/stain_functions.h"

#include "binding/compute_task.h"
#include "binding/convert.h"
#include "core/preprocess.h"
#include "core/runtime.h"
#include "core/stain/hed_jitter.h"
#include "core/stain/stain_normalizer.h"

namespace histoscope::binding {
namespace {

// Pixels (copied to the device) as float [N, 3, H, W] in [0, 1], at `size` when size > 0.
torch::Tensor floatImages(const ImageBatchView& batch, const std::string& device, int64_t size) {
  auto pixels = pixelsOnDevice(batch, resolveDevice(device));
  if (size > 0) return toFloatImages(pixels, size);
  return pixels.permute({0, 3, 1, 2}).to(torch::kFloat32).div_(255.0).contiguous();
}

int64_t optionalSize(const Napi::Value& value) {
  return value.IsNumber() ? value.As<Napi::Number>().Int64Value() : 0;
}

std::string deviceArgument(const Napi::Value& value) {
  return value.IsString() ? value.As<Napi::String>().Utf8Value() : std::string("cpu");
}


// Float [N, 3, H, W] -> NHWC Float32Array.
Napi::Float32Array nhwc(Napi::Env env, const torch::Tensor& images) {
  return toFloat32Array(env, images.permute({0, 2, 3, 1}).to(torch::kCPU));
}

// stainFit(method, data, shape, size, device) -> target, pooled over every image.
Napi::Value StainFit(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto method = parseStainMethod(readString(info[0], "the stain method"));
    auto batch = readImageBatch(info[1], info[2]);
    auto size = optionalSize(info[3]);
    auto device = deviceArgument(info[4]);
    return ComputeTask<StainTarget>::Start(
        env, "histoscope.stainFit",
        [method, batch, size, device] {
          torch::NoGradGuard no_grad;
          return fitStainTarget(method, floatImages(batch, device, size));
        },
        [](Napi::Env env, StainTarget& target) -> Napi::Value { return toStainObject(env, target); },
        {info[1].As<Napi::Object>()});
  });
}

// stainNormalize(data, shape, target, device) -> { pixels: Float32Array NHWC in 0..1, fallback }
Napi::Value StainNormalize(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto batch = readImageBatch(info[0], info[1]);
    auto target = readStainTarget(info[2]);
    auto device = deviceArgument(info[3]);
    return ComputeTask<StainNormalized>::Start(
        env, "histoscope.stainNormalize",
        [batch, target, device] {
          torch::NoGradGuard no_grad;
          return normalizeStain(floatImages(batch, device, 0), target);
        },
        [](Napi::Env env, StainNormalized& out) -> Napi::Value {
          auto result = Napi::Object::New(env);
          result.Set("pixels", nhwc(env, out.images));
          result.Set("fallback", toFlags(env, out.fallback));
          return result;
        },
        {info[0].As<Napi::Object>()});
  });
}

// hedJitter(data, shape, strength, seed, device) -> Float32Array NHWC in 0..1
Napi::Value HedJitter(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto batch = readImageBatch(info[0], info[1]);
    if (!info[2].IsNumber() || !info[3].IsNumber()) {
      throw Napi::TypeError::New(env, "Expected numbers for the strength and the seed.");
    }
    double strength = info[2].As<Napi::Number>().DoubleValue();
    auto seed = static_cast<uint64_t>(info[3].As<Napi::Number>().Int64Value());
    auto device = deviceArgument(info[4]);
    return ComputeTask<torch::Tensor>::Start(
        env, "histoscope.hedJitter",
        [batch, strength, seed, device] {
          torch::NoGradGuard no_grad;
          return jitterHed(floatImages(batch, device, 0), strength, seed);
        },
        [](Napi::Env env, torch::Tensor& images) -> Napi::Value { return nhwc(env, images); },
        {info[0].As<Napi::Object>()});
  });
}

}  // namespace

void defineStainFunctions(Napi::Env env, Napi::Object exports) {
  exports.Set("stainFit", Napi::Function::New(env, StainFit));
  exports.Set("stainNormalize", Napi::Function::New(env, StainNormalize));
  exports.Set("hedJitter", Napi::Function::New(env, HedJitter));
}

}  // namespace histoscope::binding
