#include "binding/image_store_wrap.h"

#include "binding/addon_data.h"
#include "binding/compute_task.h"
#include "binding/convert.h"
#include "core/runtime.h"

namespace histoscope::binding {
namespace {
struct Done {};
}  // namespace

Napi::Function ImageStoreWrap::Define(Napi::Env env) {
  Napi::Function ctor = DefineClass(
      env, "NativeImageStore",
      {StaticMethod<&ImageStoreWrap::Create>("create"), InstanceMethod<&ImageStoreWrap::Write>("write"),
       InstanceMethod<&ImageStoreWrap::Info>("info"), InstanceMethod<&ImageStoreWrap::Dispose>("dispose")});
  addonData(env).store_constructor = Napi::Persistent(ctor);
  return ctor;
}

Napi::Object ImageStoreWrap::Wrap(Napi::Env env, std::shared_ptr<ImageStore> store) {
  auto holder = new std::shared_ptr<ImageStore>(std::move(store));
  auto external = Napi::External<std::shared_ptr<ImageStore>>::New(
      env, holder, [](Napi::Env, std::shared_ptr<ImageStore>* p) { delete p; });
  return addonData(env).store_constructor.New({external});
}

ImageStoreWrap::ImageStoreWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ImageStoreWrap>(info) {
  if (info.Length() != 1 || !info[0].IsExternal()) {
    throw Napi::TypeError::New(info.Env(), "NativeImageStore is created with NativeImageStore.create().");
  }
  store_ = *info[0].As<Napi::External<std::shared_ptr<ImageStore>>>().Data();
}

std::shared_ptr<ImageStore> ImageStoreWrap::FromValue(const Napi::Value& value, const char* what) {
  auto env = value.Env();
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(addonData(env).store_constructor.Value())) {
    throw Napi::TypeError::New(env, std::string("Expected a NativeImageStore for ") + what + ".");
  }
  auto store = Napi::ObjectWrap<ImageStoreWrap>::Unwrap(value.As<Napi::Object>())->store_;
  if (!store) throw Napi::Error::New(env, "This image store was disposed; create it again to use it.");
  return store;
}

// create(count, height, width, device) -> Promise<NativeImageStore>
Napi::Value ImageStoreWrap::Create(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  std::vector<int64_t> count;
  for (int i = 0; i < 3; ++i) {
    if (!info[i].IsNumber()) {
      throw Napi::TypeError::New(env, "Expected integers for the image store's count, height and width.");
    }
    count.push_back(info[i].As<Napi::Number>().Int64Value());
  }
  auto device = readString(info[3], "the image store's device");
  return ComputeTask<std::shared_ptr<ImageStore>>::Start(
      env, "histoscope.imageStore.create",
      [count, device] { return std::make_shared<ImageStore>(count[0], count[1], count[2], resolveDevice(device)); },
      [](Napi::Env env, std::shared_ptr<ImageStore>& store) { return Wrap(env, store); });
}

// write(rows: Int32Array, data: Uint8Array, shape) -> Promise<void>
Napi::Value ImageStoreWrap::Write(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (!store_) throw Napi::Error::New(env, "This image store was disposed; create it again to use it.");
  auto store = store_;
  auto rows = readIntegers(info[0], "the image store's rows");
  auto images = readImageBatch(info[1], info[2]);
  return ComputeTask<Done>::Start(
      env, "histoscope.imageStore.write",
      [store, rows, images] {
        store->write(rows, images);
        return Done{};
      },
      [](Napi::Env env, Done&) { return env.Undefined(); }, {Value(), info[1].As<Napi::Object>()});
}

Napi::Value ImageStoreWrap::Info(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (!store_) throw Napi::Error::New(env, "This image store was disposed; create it again to use it.");
  auto result = Napi::Object::New(env);
  result.Set("count", Napi::Number::New(env, static_cast<double>(store_->count())));
  result.Set("height", Napi::Number::New(env, static_cast<double>(store_->height())));
  result.Set("width", Napi::Number::New(env, static_cast<double>(store_->width())));
  result.Set("bytes", Napi::Number::New(env, static_cast<double>(store_->bytes())));
  result.Set("device", store_->device().str());
  return result;
}

Napi::Value ImageStoreWrap::Dispose(const Napi::CallbackInfo& info) {
  // Calls already queued hold their own reference; the memory goes when they finish.
  store_.reset();
  return info.Env().Undefined();
}

}  // namespace histoscope::binding
