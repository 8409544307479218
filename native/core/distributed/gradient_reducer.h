// Sums the trainable parameters' gradients over the ranks of a ProcessGroup, DDP-style: the
// parameters are packed, in reverse order (the order backward produces their gradients), into
// flat buckets of about `bucket_bytes`; a gradient hook copies each gradient into its bucket as
// autograd computes it, and a full bucket's all-reduce starts at once, while backward continues.
// Buckets are launched strictly in index order so every rank issues the same collectives in the
// same order. finish() launches what is left (a parameter without a gradient this step counts as
// zeros, so a rank with no samples still takes part), waits, and writes sum x scale into .grad.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include <torch/types.h>

#include "core/distributed/process_group.h"

namespace histoscope::distributed {

// Parameter indices per bucket: reverse order, a new bucket when the next parameter would take
// the current one past `bucket_bytes` (a parameter larger than that gets a bucket of its own).
std::vector<std::vector<size_t>> planBuckets(const std::vector<int64_t>& parameter_bytes, int64_t bucket_bytes);

class GradientReducer {
 public:
  static constexpr int64_t kDefaultBucketBytes = 25 * 1024 * 1024;

  GradientReducer(std::shared_ptr<ProcessGroup> group, std::vector<torch::Tensor> parameters,
                  int64_t bucket_bytes = kDefaultBucketBytes);
  ~GradientReducer();
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;

  // Arms the hooks for one backward pass.
  void prepare();
  // After backward: every bucket reduced, each parameter's .grad = sum over ranks x scale.
  void finish(double scale);

  const std::vector<std::vector<size_t>>& bucketPlan() const { return plan_; }
  // Buckets whose all-reduce the hooks started before finish() (the overlap with backward).
  int64_t launchedDuringBackward() const { return launched_during_backward_; }

 private:
  struct Slot {
    size_t bucket = 0;
    int64_t offset = 0;
    bool filled = false;
  };
  struct Bucket {
    torch::Tensor flat;
    size_t pending = 0;
    c10::intrusive_ptr<CollectiveWork> work;
  };

  void onGradient(size_t index, const torch::Tensor& grad);
  void launch(size_t bucket);
  void launchReadyInOrder();

  std::shared_ptr<ProcessGroup> group_;
  std::vector<torch::Tensor> parameters_;
  std::vector<unsigned> hooks_;
  std::vector<std::vector<size_t>> plan_;
  std::vector<Slot> slots_;
  std::vector<Bucket> buckets_;
  size_t next_launch_ = 0;
  bool armed_ = false;
  int64_t launched_during_backward_ = 0;
  std::mutex mutex_;
};

}  // namespace histoscope::distributed
