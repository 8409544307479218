// NativeImageStore: the JS handle of a core ImageStore (decoded images kept on the model's
// device). Creating and writing run on the compute thread and return Promises; a disposed store
// rejects every call. The memory goes when the last call using it finishes.
#pragma once

#include <napi.h>

#include <memory>

#include "core/image_store.h"

namespace histoscope::binding {

class ImageStoreWrap : public Napi::ObjectWrap<ImageStoreWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  static Napi::Object Wrap(Napi::Env env, std::shared_ptr<ImageStore> store);

  explicit ImageStoreWrap(const Napi::CallbackInfo& info);

  // The store behind a JS value, or a TypeError naming `what`.
  static std::shared_ptr<ImageStore> FromValue(const Napi::Value& value, const char* what);

 private:
  static Napi::Value Create(const Napi::CallbackInfo& info);
  Napi::Value Write(const Napi::CallbackInfo& info);
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  std::shared_ptr<ImageStore> store_;
};

}  // namespace histoscope::binding
