// Per-environment data of the addon: the constructors of its wrapped classes, so results made on
// the compute thread can be wrapped in new JS objects when they are delivered.
#pragma once

#include <napi.h>

namespace histoscope::binding {

struct AddonData {
  Napi::FunctionReference model_constructor;
  Napi::FunctionReference store_constructor;
  Napi::FunctionReference process_group_constructor;
};

inline AddonData& addonData(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

}  // namespace histoscope::binding
