// One Napi::AsyncWorker for every computing call: `work` runs off the JS thread (on the compute
// thread, via a libuv worker) and touches no JS; `convert` turns its result into JS on the main thread and resolves a Promise.
// C++ exceptions (c10::Error included) reject the Promise with a readable message, no C++ stack.
#pragma once

#include <napi.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <c10/util/Exception.h>

#include "binding/compute_thread.h"

namespace histoscope::binding {

// c10::Error messages can carry C++ source locations on later lines; users get the first
// paragraph, which says what went wrong.
inline std::string readableMessage(const std::string& message) {
  auto end = message.find("\nException raised from");
  std::string text = end == std::string::npos ? message : message.substr(0, end);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text.empty() ? "Unknown error in the native core." : text;
}

template <typename Result>
class TaskWorker : public Napi::AsyncWorker {
 public:
  using Work = std::function<Result()>;
  using Convert = std::function<Napi::Value(Napi::Env, Result&)>;

  // Queues `work` and returns its Promise. `keep_alive` holds JS objects (input buffers, the
  // model's wrapper) until the work is done, so the garbage collector cannot free them under it.
  static Napi::Promise Start(Napi::Env env, const char* name, Work work, Convert convert,
                             const std::vector<Napi::Object>& keep_alive = {}) {
    auto* worker = new TaskWorker(env, name, std::move(work), std::move(convert));
    for (const auto& object : keep_alive) worker->keep_alive_.push_back(Napi::Persistent(object));
    worker->Queue();
    return worker->deferred_.Promise();
  }

 protected:
  void Execute() override {
    try {
      runOnComputeThread([this] { result_ = work_(); });
    } catch (const c10::Error& e) {
      SetError(readableMessage(e.what_without_backtrace()));
    } catch (const std::exception& e) {
      SetError(readableMessage(e.what()));
    } catch (...) {
      SetError("Unknown error in the native core.");
    }
  }

  void OnOK() override {
    Napi::HandleScope scope(Env());
    try {
      deferred_.Resolve(convert_(Env(), result_));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  TaskWorker(Napi::Env env, const char* name, Work work, Convert convert)
      : Napi::AsyncWorker(env, name),
        deferred_(Napi::Promise::Deferred::New(env)),
        work_(std::move(work)),
        convert_(std::move(convert)) {}

  Napi::Promise::Deferred deferred_;
  Work work_;
  Convert convert_;
  Result result_{};
  std::vector<Napi::ObjectReference> keep_alive_;
};

}  // namespace histoscope::binding
