#include "binding/compute_thread.h"

#include <condition_variable>
#include <deque>
#include <exception>
#include <future>
#include <mutex>
#include <thread>

namespace histoscope::binding {
namespace {

class ComputeThread {
 public:
  ComputeThread() : thread_([this] { loop(); }) { thread_.detach(); }

  void run(const std::function<void()>& task) {
    std::packaged_task<void()> packaged(task);
    auto done = packaged.get_future();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.push_back(&packaged);
    }
    ready_.notify_one();
    done.get();  // rethrows the task's exception on the calling thread
  }

 private:
  void loop() {
    for (;;) {
      std::packaged_task<void()>* task;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        ready_.wait(lock, [this] { return !queue_.empty(); });
        task = queue_.front();
        queue_.pop_front();
      }
      (*task)();
    }
  }

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::packaged_task<void()>*> queue_;
  std::thread thread_;
};

}  // namespace

void runOnComputeThread(const std::function<void()>& task) {
  // Never destroyed: the thread is detached and may outlive static destruction at exit.
  static ComputeThread* thread = new ComputeThread();
  thread->run(task);
}

}  // namespace histoscope::binding
