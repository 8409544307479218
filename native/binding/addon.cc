// The addon's entry point: registers the model class and the runtime functions, nothing else.
#include <napi.h>

#include <cstdlib>

#include "binding/addon_data.h"
#include "binding/compute_task.h"
#include "binding/image_store_wrap.h"
#include "binding/model_wrap.h"
#include "binding/process_group_wrap.h"
#include "binding/stain_functions.h"
#include "core/runtime.h"

namespace histoscope::binding {
namespace {

// setThreads(n) -> Promise<number>. Applied on the compute thread, where the tensor work runs:
// OpenMP's thread count is a per-thread setting, so a count set from the JS thread changed
// libtorch's bookkeeping but not the compute thread's own team.
Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    const int threads = info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 0;
    return ComputeTask<int>::Start(
        env, "histoscope.setThreads",
        [threads] {
          setThreadCount(threads);
          return threadCount();
        },
        [](Napi::Env env, int& count) -> Napi::Value { return Napi::Number::New(env, count); });
  });
}

Napi::Value GetThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), threadCount());
}

Napi::Value CudaAvailable(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), cudaAvailable());
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // HISTOSCOPE_THREADS overrides the default of all hardware threads.
  const char* threads = std::getenv("HISTOSCOPE_THREADS");
  configureRuntime(threads ? std::atoi(threads) : 0);
  env.SetInstanceData(new AddonData());
  exports.Set("NativeModel", ModelWrap::Define(env));
  exports.Set("NativeImageStore", ImageStoreWrap::Define(env));
  exports.Set("NativeProcessGroup", ProcessGroupWrap::Define(env));
  defineStainFunctions(env, exports);
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("getThreads", Napi::Function::New(env, GetThreads));
  exports.Set("cudaAvailable", Napi::Function::New(env, CudaAvailable));
  exports.Set("libtorchVersion", Napi::String::New(env, libtorchVersion()));
  return exports;
}

}  // namespace
}  // namespace histoscope::binding

// NODE_API_MODULE needs a plain identifier for the init function.
static Napi::Object InitHistoscope(Napi::Env env, Napi::Object exports) {
  return histoscope::binding::Init(env, exports);
}
NODE_API_MODULE(histoscope, InitHistoscope)
