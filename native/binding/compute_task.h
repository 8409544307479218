// One computing call from JS: `work` runs on the compute thread and touches no JS; the result is
// handed back to the JS thread through a thread-safe function, where `convert` turns it into JS
// and settles a Promise. Unlike Napi::AsyncWorker, nothing occupies a libuv pool thread while the
// work runs or waits its turn (onnxruntime-node keeps its own thread for the same reason).
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

// Argument parsing runs on the JS thread: what it (or the core's validation) throws becomes a JS
// error there, with the same readable message as a rejected Promise.
template <typename Fn>
Napi::Value guarded(const Napi::Env& env, Fn&& fn) {
  try {
    return fn();
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, readableMessage(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, readableMessage(e.what()));
  }
}

template <typename Result>
class ComputeTask {
 public:
  using Work = std::function<Result()>;
  using Convert = std::function<Napi::Value(Napi::Env, Result&)>;

  // Queues `work` and returns its Promise. `keep_alive` holds JS objects (input buffers, the
  // model's wrapper) until the Promise settles, so the garbage collector cannot free them under it.
  static Napi::Promise Start(Napi::Env env, const char* name, Work work, Convert convert,
                             const std::vector<Napi::Object>& keep_alive = {}) {
    auto* task = new ComputeTask(env, std::move(work), std::move(convert));
    for (const auto& object : keep_alive) task->keep_alive_.push_back(Napi::Persistent(object));
    // The thread-safe function keeps the event loop alive until the result is delivered.
    task->deliver_ = Deliver::New(env, name, /*maxQueueSize=*/0, /*initialThreadCount=*/1, task);
    auto promise = task->deferred_.Promise();
    postToComputeThread([task] { task->execute(); });
    return promise;
  }

 private:
  static void Settle(Napi::Env env, Napi::Function, ComputeTask* task, void*) {
    // A null env means the environment is being torn down: nobody is left to settle.
    if (env == nullptr) return;
    {
      Napi::HandleScope scope(env);
      if (!task->error_.empty()) {
        task->deferred_.Reject(Napi::Error::New(env, task->error_).Value());
      } else {
        try {
          task->deferred_.Resolve(task->convert_(env, task->result_));
        } catch (const Napi::Error& e) {
          task->deferred_.Reject(e.Value());
        }
      }
    }
    delete task;  // references and the result are released on the JS thread
  }
  using Deliver = Napi::TypedThreadSafeFunction<ComputeTask, void, &ComputeTask::Settle>;

  ComputeTask(Napi::Env env, Work work, Convert convert)
      : deferred_(Napi::Promise::Deferred::New(env)),
        work_(std::move(work)),
        convert_(std::move(convert)) {}

  // On the compute thread.
  void execute() {
    try {
      result_ = work_();
    } catch (const c10::Error& e) {
      error_ = readableMessage(e.what_without_backtrace());
    } catch (const std::exception& e) {
      error_ = readableMessage(e.what());
    } catch (...) {
      error_ = "Unknown error in the native core.";
    }
    // Settle may run (and delete this task) as soon as the call is queued: use a copy of the handle.
    Deliver deliver = deliver_;
    deliver.BlockingCall();
    deliver.Release();
  }

  Napi::Promise::Deferred deferred_;
  Work work_;
  Convert convert_;
  Result result_{};
  std::string error_;
  std::vector<Napi::ObjectReference> keep_alive_;
  Deliver deliver_;
};

}  // namespace histoscope::binding
