#include "core/distributed/gradient_reducer.h"

#include <stdexcept>

namespace histoscope::distributed {

std::vector<std::vector<size_t>> planBuckets(const std::vector<int64_t>& parameter_bytes, int64_t bucket_bytes) {
  if (bucket_bytes < 1) throw std::invalid_argument("Expected a positive bucket size but received " + std::to_string(bucket_bytes) + ".");
  std::vector<std::vector<size_t>> plan;
  int64_t filled = 0;
  for (size_t k = parameter_bytes.size(); k-- > 0;) {
    if (plan.empty() || (filled > 0 && filled + parameter_bytes[k] > bucket_bytes)) {
      plan.emplace_back();
      filled = 0;
    }
    plan.back().push_back(k);
    filled += parameter_bytes[k];
  }
  return plan;
}

GradientReducer::GradientReducer(std::shared_ptr<ProcessGroup> group, std::vector<torch::Tensor> parameters,
                                 int64_t bucket_bytes)
    : group_(std::move(group)), parameters_(std::move(parameters)) {
  if (parameters_.empty()) throw std::invalid_argument("A gradient reducer needs at least one trainable parameter.");
  std::vector<int64_t> bytes;
  for (const auto& p : parameters_) {
    if (p.scalar_type() != parameters_[0].scalar_type() || p.device() != parameters_[0].device()) {
      throw std::invalid_argument("Trainable parameters of mixed dtype or device cannot share gradient buckets.");
    }
    bytes.push_back(p.numel() * static_cast<int64_t>(p.element_size()));
  }
  plan_ = planBuckets(bytes, bucket_bytes);
  slots_.resize(parameters_.size());
  buckets_.resize(plan_.size());
  for (size_t b = 0; b < plan_.size(); ++b) {
    int64_t offset = 0;
    for (auto index : plan_[b]) {
      slots_[index] = {b, offset, false};
      offset += parameters_[index].numel();
    }
    // Collectives run on the group's device (NCCL: this rank's GPU, where the parameters are).
    buckets_[b].flat = torch::zeros({offset}, parameters_[0].options().device(group_->device()));
  }
  for (size_t i = 0; i < parameters_.size(); ++i) {
    hooks_.push_back(parameters_[i].register_hook([this, i](torch::Tensor grad) { onGradient(i, grad); }));
  }
}

GradientReducer::~GradientReducer() {
  for (size_t i = 0; i < parameters_.size(); ++i) parameters_[i].remove_hook(hooks_[i]);
}

void GradientReducer::prepare() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& slot : slots_) slot.filled = false;
  for (size_t b = 0; b < buckets_.size(); ++b) {
    buckets_[b].pending = plan_[b].size();
    buckets_[b].work.reset();
  }
  next_launch_ = 0;
  launched_during_backward_ = 0;
  armed_ = true;
}

void GradientReducer::onGradient(size_t index, const torch::Tensor& grad) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!armed_) return;  // backward passes outside a distributed step (none today) are left alone
  auto& slot = slots_[index];
  auto& bucket = buckets_[slot.bucket];
  auto view = bucket.flat.narrow(0, slot.offset, parameters_[index].numel());
  torch::NoGradGuard no_grad;
  if (slot.filled) {
    view.add_(grad.reshape(-1));  // a parameter used twice in the graph: its gradients add up
    return;
  }
  view.copy_(grad.reshape(-1));
  slot.filled = true;
  if (--bucket.pending == 0) {
    launchReadyInOrder();
    launched_during_backward_ = static_cast<int64_t>(next_launch_);
  }
}

void GradientReducer::launch(size_t b) {
  std::vector<at::Tensor> tensors{buckets_[b].flat};
  buckets_[b].work = group_->allreduceSumAsync(tensors);
}

void GradientReducer::launchReadyInOrder() {
  while (next_launch_ < buckets_.size() && buckets_[next_launch_].pending == 0) launch(next_launch_++);
}

void GradientReducer::finish(double scale) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    armed_ = false;
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < slots_.size(); ++i) {
      auto& slot = slots_[i];
      if (slot.filled) continue;
      buckets_[slot.bucket].flat.narrow(0, slot.offset, parameters_[i].numel()).zero_();
      slot.filled = true;
      --buckets_[slot.bucket].pending;
    }
    launchReadyInOrder();
  }
  torch::NoGradGuard no_grad;
  for (size_t b = 0; b < buckets_.size(); ++b) {
    group_->wait(buckets_[b].work, "the gradient all-reduce (bucket " + std::to_string(b) + ")");
    if (scale != 1.0) buckets_[b].flat.mul_(scale);
  }
  for (size_t i = 0; i < parameters_.size(); ++i) {
    auto& p = parameters_[i];
    auto summed = buckets_[slots_[i].bucket].flat.narrow(0, slots_[i].offset, p.numel()).view(p.sizes());
    if (p.grad().defined()) {
      p.mutable_grad().copy_(summed);
    } else {
      p.mutable_grad() = torch::empty_like(p).copy_(summed);
    }
  }
}

}  // namespace histoscope::distributed
