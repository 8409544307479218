#include "core/distributed/tensor_sync.h"

#include <map>

namespace histoscope::distributed {

void broadcastTensors(ProcessGroup& group, const std::vector<torch::Tensor>& tensors, int root) {
  if (group.size() == 1) return;
  std::map<c10::ScalarType, std::vector<torch::Tensor>> by_type;
  for (const auto& t : tensors) {
    if (t.defined() && t.numel() > 0) by_type[t.scalar_type()].push_back(t);
  }
  torch::NoGradGuard no_grad;
  for (auto& [type, list] : by_type) {
    std::vector<torch::Tensor> flat_parts;
    for (const auto& t : list) flat_parts.push_back(t.detach().reshape(-1).to(group.device()));
    std::vector<at::Tensor> flat{torch::cat(flat_parts)};
    group.broadcast(flat, root);
    int64_t offset = 0;
    for (auto& t : list) {
      t.detach().copy_(flat[0].narrow(0, offset, t.numel()).view(t.sizes()));
      offset += t.numel();
    }
  }
}

}  // namespace histoscope::distributed
