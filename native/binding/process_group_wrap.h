// NativeProcessGroup: the JS handle of this process's membership of a data-parallel world
// (core/distributed). Joining, collectives and attaching a model run on the compute thread, in
// order with the model's steps, and return Promises.
#pragma once

#include <napi.h>

#include <memory>

#include "core/distributed/process_group.h"

namespace histoscope::binding {

class ProcessGroupWrap : public Napi::ObjectWrap<ProcessGroupWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit ProcessGroupWrap(const Napi::CallbackInfo& info);

 private:
  static Napi::Value Create(const Napi::CallbackInfo& info);
  static Napi::Value BackendAvailable(const Napi::CallbackInfo& info);
  Napi::Value AllgatherBytes(const Napi::CallbackInfo& info);
  Napi::Value BroadcastBytes(const Napi::CallbackInfo& info);
  Napi::Value Barrier(const Napi::CallbackInfo& info);
  Napi::Value AttachModel(const Napi::CallbackInfo& info);
  Napi::Value StepWithoutImages(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  std::shared_ptr<distributed::ProcessGroup> live(const Napi::Env& env) const;

  std::shared_ptr<distributed::ProcessGroup> group_;
};

}  // namespace histoscope::binding
